"""Submit the signup workflow programmatically (the tour's client.py): ``python -m examples.workflows.submit.client``."""

from __future__ import annotations

import httpx

import agentdur


def main() -> None:
    key = "user-123"
    url = "http://127.0.0.1:8080/SignupWorkflow/" + key + "/run"

    payload = {"name": "John Doe", "email": "john@mail.com"}
    headers = {"Content-Type": "application/json", "Accept": "application/json"}

    response = httpx.post(url, json=payload, headers=headers)
    print(response.status_code, response.text)

    # The same with agentdur's client: submit without waiting, then attach to the run by its key.
    with agentdur.Client("http://127.0.0.1:8080") as client:
        client.workflow_submit("SignupWorkflow", "user-456", payload)
        print(client.workflow_attach("SignupWorkflow", "user-456"))


if __name__ == "__main__":
    main()
