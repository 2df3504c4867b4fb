"""A small OpenAI-compatible chat-completions server on 127.0.0.1 with a real vision-language model behind it.

It does what vLLM or llama.cpp's server do for one request: read the messages (text and ``image_url`` data URLs),
apply the model's chat template, decode under the request's ``response_format`` JSON schema (xgrammar, the same
constrained decoding as the in-process engine) and answer in the protocol's shape. It checks the bearer key and
can be told to fail its first requests with a status, to exercise clients' retries.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from PIL import Image


class VLMServer:
    def __init__(self, engine: Any, api_key: str = "test-key") -> None:
        """``engine``: a loaded :class:`pipeline.vision.qwen.QwenVision` (its model, processor and limits)."""
        self.engine = engine
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.fail_next: list[int] = []  # statuses to answer the next requests with, in order
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --------------------------------------------------------------------------------------------- serving

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        import torch

        from pipeline.vision.grammar import SheetGrammar

        engine = self.engine
        conversation, images = [], []
        for message in body["messages"]:
            content = message["content"]
            if isinstance(content, str):
                conversation.append({"role": message["role"], "content": [{"type": "text", "text": content}]})
                continue
            parts = []
            for part in content:
                if part["type"] == "image_url":
                    header, encoded = part["image_url"]["url"].split(",", 1)
                    assert header.startswith("data:image/") and header.endswith(";base64")
                    images.append(Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB"))
                    parts.append({"type": "image"})
                else:
                    parts.append({"type": "text", "text": part["text"]})
            conversation.append({"role": message["role"], "content": parts})
        text = engine.processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        inputs = engine.processor(images=images, text=[text], return_tensors="pt", return_mm_token_type_ids=True)
        schema = body["response_format"]["json_schema"]["schema"]
        vocab_size = engine.model.get_output_embeddings().weight.shape[0]
        grammar = SheetGrammar(engine.processor.tokenizer, vocab_size, engine.sheet_limits, schema=schema)
        temperature = float(body.get("temperature") or 0.0)
        with self._lock, torch.inference_mode():
            torch.manual_seed(int(body.get("seed", 0)))
            output = engine.model.generate(
                **inputs, max_new_tokens=int(body["max_tokens"]), do_sample=temperature > 0,
                temperature=temperature or None, top_p=None, top_k=None,
                logits_processor=[grammar.logits_processor()],
                pad_token_id=engine.processor.tokenizer.pad_token_id,
            )
        prompt_length = inputs["input_ids"].shape[1]
        reply = engine.processor.tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)
        return {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_length, "completion_tokens": int(output.shape[1] - prompt_length)},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/v1/chat/completions":
                    return self._answer(404, {"error": {"message": "not found"}})
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._answer(401, {"error": {"message": "invalid api key"}})
                if server.fail_next:
                    return self._answer(server.fail_next.pop(0), {"error": {"message": "busy"}})
                self._answer(200, server.complete(body))

        return Handler
