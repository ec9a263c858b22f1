"""The Quickstart demo (``python -m examples.demo``): a claim agent survives SIGKILL; chat sessions per user.

Its app, ``examples.demo.app:app``, serves the claim pipeline and the chat sessions together.
"""
