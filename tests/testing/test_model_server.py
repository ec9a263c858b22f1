"""The scripted model server over plain HTTP: routes, the request log, scripts, faults, lifecycle, CLI."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import httpx
import pytest

from agentdur.testing import ModelError, ModelReply, ModelRequest, ScriptedModelServer, free_port

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


def test_models_listing_and_unknown_routes(model_server: ScriptedModelServer) -> None:
    listing = httpx.get(f"{model_server.openai_base_url}/models")
    assert listing.status_code == 200 and "gpt-4o" in [m["id"] for m in listing.json()["data"]]
    assert httpx.get(f"{model_server.url}/v1beta/models").json()["models"]
    missing = httpx.post(f"{model_server.url}/v2/nothing", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Unknown route: POST /v2/nothing"
    assert [r.api for r in model_server.requests] == ["models", "models", "unknown"]
    assert model_server.count(api="unknown") == 1 and model_server.count() == 3


def test_a_body_that_is_not_json_is_a_400(model_server: ScriptedModelServer) -> None:
    reply = httpx.post(f"{model_server.openai_base_url}/chat/completions", content=b"{not json")
    assert reply.status_code == 400 and reply.json()["error"]["type"] == "invalid_request_error"
    assert model_server.requests[0].request is None and model_server.requests[0].status == 400


def test_same_request_gets_byte_identical_answers(model_server: ScriptedModelServer) -> None:
    for path, body in [
        ("/v1/chat/completions", CHAT),
        ("/v1/responses", {"model": "gpt-4o", "input": "hello"}),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        ),
    ]:
        one = httpx.post(model_server.url + path, json=body)
        two = httpx.post(model_server.url + path, json=body)
        assert one.status_code == 200 and one.content == two.content


def test_script_queue_then_function_then_default_policy(model_server: ScriptedModelServer) -> None:
    seen: list[ModelRequest] = []

    def answer(request: ModelRequest) -> ModelReply | str | None:
        seen.append(request)
        return "from the function" if len(seen) == 1 else None

    model_server.script.reply("queued").respond_with(answer)
    texts = [
        httpx.post(f"{model_server.openai_base_url}/chat/completions", json=CHAT).json()["choices"][0][
            "message"
        ]["content"]
        for _ in range(3)
    ]
    assert texts == ["queued", "from the function", "Echo: hello"]
    assert seen[0].api == "chat" and seen[0].last_user_message == "hello"


def test_a_failing_reply_function_answers_500_naming_it(model_server: ScriptedModelServer) -> None:
    def broken(request: ModelRequest) -> ModelReply:
        raise RuntimeError("boom")

    model_server.script.respond_with(broken)
    reply = httpx.post(f"{model_server.openai_base_url}/chat/completions", json=CHAT)
    assert reply.status_code == 500 and "boom" in reply.json()["error"]["message"]


def test_scripted_error_has_the_provider_shape(model_server: ScriptedModelServer) -> None:
    model_server.script.error(429, "slow down", retry_after=2.5).error(403)
    gemini = httpx.post(f"{model_server.url}/v1beta/models/g:generateContent", json={"contents": []})
    assert gemini.status_code == 429 and gemini.headers["retry-after"] == "2.5"
    assert gemini.json() == {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
    openai_error = httpx.post(f"{model_server.openai_base_url}/responses", json={"model": "m", "input": "x"})
    assert openai_error.status_code == 403 and openai_error.json()["error"]["type"] == "permission_denied"
    assert [r.error for r in model_server.requests] == [ModelError(429, "slow down", 2.5), ModelError(403)]


def test_faults_run_in_order_before_the_script(model_server: ScriptedModelServer) -> None:
    model_server.faults.fail_next(1, status=500, retry_after=None).drop_next(1)
    model_server.script.reply("after the faults")
    url = f"{model_server.openai_base_url}/chat/completions"
    assert httpx.post(url, json=CHAT).status_code == 500
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(url, json=CHAT)
    assert httpx.post(url, json=CHAT).json()["choices"][0]["message"]["content"] == "after the faults"
    assert [r.fault for r in model_server.requests][:2] == [ModelError(500, None, None), "dropped"]
    assert model_server.faults.pending == 0 and model_server.script.pending == 0


async def test_a_delayed_request_is_logged_on_arrival(model_server: ScriptedModelServer) -> None:
    model_server.faults.delay(0.5, n=1)
    async with httpx.AsyncClient() as http:
        pending = asyncio.ensure_future(
            http.post(f"{model_server.openai_base_url}/chat/completions", json=CHAT)
        )
        (arrived,) = await asyncio.to_thread(model_server.wait_for_requests, 1, api="chat")
        assert not arrived.done and arrived.request is not None
        assert (await pending).status_code == 200
    record = model_server.requests[0]
    assert record.done and record.delay == 0.5 and record.reply == ModelReply(text="Echo: hello")


def test_hold_holds_back_only_the_requests_it_picks(model_server: ScriptedModelServer) -> None:
    model_server.faults.hold(0.5, lambda request: request.last_user_message == "held")
    held = {**CHAT, "messages": [{"role": "user", "content": "held"}]}
    for body in (CHAT, held, CHAT):
        assert httpx.post(f"{model_server.openai_base_url}/chat/completions", json=body).status_code == 200
    model_server.faults.hold(0, None)
    httpx.post(f"{model_server.openai_base_url}/chat/completions", json=held)
    assert [r.delay for r in model_server.requests] == [0.0, 0.5, 0.0, 0.0]


def test_gemini_stream_without_sse_is_a_json_array(model_server: ScriptedModelServer) -> None:
    model_server.script.reply("one two three four")
    chunks = httpx.post(
        f"{model_server.url}/v1beta/models/g:streamGenerateContent", json={"contents": []}
    ).json()
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == "one two three four"


def test_reset_clears_log_script_and_faults(model_server: ScriptedModelServer) -> None:
    httpx.get(f"{model_server.openai_base_url}/models")
    model_server.script.reply("x")
    model_server.faults.fail_next(2)
    model_server.reset()
    assert (
        model_server.requests == [] and model_server.script.pending == 0 and model_server.faults.pending == 0
    )


def test_lifecycle_restart_and_async_context_manager() -> None:
    server = ScriptedModelServer()
    with pytest.raises(Exception, match="not running"):
        _ = server.url
    with server:
        first = server.url
        assert httpx.get(f"{first}/v1/models").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{first}/v1/models")
    assert server.count() == 1

    async def use() -> int:
        async with ScriptedModelServer() as running, httpx.AsyncClient() as http:
            return (await http.get(f"{running.url}/v1/models")).status_code

    assert asyncio.run(use()) == 200


def test_cli_main_serves_until_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from agentdur.testing.model_server import main; raise SystemExit(main(['--port', '{port}']))",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=CHAT)
        assert reply.json()["choices"][0]["message"]["content"] == "Echo: hello"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_without_h11_the_model_server_names_the_extra_and_the_rest_of_the_kit_imports() -> None:
    # sys.modules[name] = None makes `import h11` fail as if the testing extra were not installed
    script = (
        "import sys; sys.modules['h11'] = None\n"
        "from agentdur.testing import ServedApp, wait_for\n"
        "print('kit ok')\n"
        "from agentdur.testing import ScriptedModelServer\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout == "kit ok\n"
    assert 'pip install "agentdur[testing]"' in result.stderr
