"""Durable agent patterns, installed as ``agentdur.patterns``.

Patterns depend on the agentdur core only, never on an integration: they take a model-call function
(or handlers and step functions). See docs/patterns.md for which to use when:

- :mod:`.chaining`: a fixed sequence of steps, each transforming the previous output;
- :mod:`.routing`: one of several tools, local handlers or remote services, chosen by a model or a rule;
- :mod:`.parallel`: fan out to N branches and fan in, with a concurrency limit;
- :mod:`.racing`: the first branch to succeed wins, the others are cancelled;
- :mod:`.sagas`: compensations that undo completed steps on failure or cancellation;
- :mod:`.orchestrator`: a model plans subtasks, workers do them in parallel, a synthesizer combines;
- :mod:`.evaluator`: generate, evaluate, refine until accepted;
- :mod:`.sessions` and :mod:`.approval`: chat sessions and human approval.
"""
