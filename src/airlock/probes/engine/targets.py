"""Targets: an OpenAI-compatible chat endpoint (httpx, async) and a local transformers model.

A target turns messages into a ``Completion`` or raises ``TargetError`` with a reason a person
can act on. It never raises anything else for a bad answer: timeouts, garbage, 5xx, endless
streams and enormous bodies all end as ``TargetError`` within the request deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from .limiter import AdaptiveLimiter
from .packs import Message


class TargetError(Exception):
    """A request that produced no usable answer; the message says why."""


class BudgetExhausted(TargetError):
    """The run's request or token budget is spent."""


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    http_requests: int
    latency_s: float


@dataclass
class Budget:
    """Hard caps on requests sent and tokens used in one run (None: no cap)."""

    max_requests: int | None = None
    max_tokens: int | None = None
    requests: int = 0
    tokens: int = 0

    def take_request(self) -> None:
        """Count one outgoing request, or raise BudgetExhausted if none are left."""
        if self.max_requests is not None and self.requests >= self.max_requests:
            raise BudgetExhausted(f"request budget of {self.max_requests} spent")
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            raise BudgetExhausted(f"token budget of {self.max_tokens} spent")
        self.requests += 1

    def add_tokens(self, n: int) -> None:
        """Count tokens reported by the target."""
        self.tokens += max(0, n)


class Target(Protocol):
    name: str

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the target in a manifest (never a secret)."""
        ...

    async def complete(self, messages: list[Message], *, max_tokens: int) -> Completion:
        """Answer one conversation or raise TargetError."""
        ...

    async def aclose(self) -> None:
        """Release connections and threads."""
        ...


@dataclass
class EndpointLimits:
    request_timeout: float = 60.0  # whole request, headers to last byte
    connect_timeout: float = 10.0
    max_body_bytes: int = 4 * 1024 * 1024
    max_text_chars: int = 64_000
    retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 20.0


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _parse_chat(body: bytes, *, max_chars: int) -> tuple[str, int | None, int | None]:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise TargetError(f"answer is not JSON (first bytes: {body[:60]!r})") from None
    try:
        message = doc["choices"][0]["message"]
        content = message.get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise TargetError(
            "answer is JSON but not a chat completion (no choices[0].message)"
        ) from None
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise TargetError(f"choices[0].message.content is {type(content).__name__}, not text")
    usage = doc.get("usage") if isinstance(doc, dict) else None
    prompt = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    completion = usage.get("completion_tokens") if isinstance(usage, dict) else None
    return (
        content[:max_chars],
        prompt if isinstance(prompt, int) else None,
        completion if isinstance(completion, int) else None,
    )


@dataclass
class OpenAIChatTarget:
    """An OpenAI-compatible ``/chat/completions`` endpoint behind an adaptive concurrency limit."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    limiter: AdaptiveLimiter = field(default_factory=AdaptiveLimiter)
    limits: EndpointLimits = field(default_factory=EndpointLimits)
    budget: Budget = field(default_factory=Budget)
    temperature: float = 0.0
    name: str = "openai-chat"
    status_counts: dict[str, int] = field(default_factory=dict)
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    def fingerprint(self) -> dict[str, Any]:
        """Base URL and model; the key only as whether one was given."""
        return {
            "kind": self.name,
            "base_url": self.base_url,
            "model": self.model,
            "api_key": "set" if self.api_key else "none",
        }

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            size = int(self.limiter.maximum)
            # Uncompressed answers: the body limit then bounds memory, not a compressed size.
            headers = {"Accept-Encoding": "identity"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._client = httpx.AsyncClient(
                base_url=self.base_url.rstrip("/") + "/",
                headers=headers,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                timeout=httpx.Timeout(
                    self.limits.request_timeout, connect=self.limits.connect_timeout
                ),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    def _count(self, key: str) -> None:
        self.status_counts[key] = self.status_counts.get(key, 0) + 1

    async def _once(self, payload: dict[str, Any]) -> tuple[int, bytes, float | None]:
        """One HTTP exchange within the deadline and the body limit."""
        cap = self.limits.max_body_bytes
        async with asyncio.timeout(self.limits.request_timeout):
            async with self._http().stream("POST", "chat/completions", json=payload) as response:
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > cap:
                    raise TargetError(f"answer declares {declared} bytes, above the {cap} limit")
                chunks: list[bytes] = []
                size = 0
                # Decoded bytes are counted, so a compressed answer cannot expand past the cap
                # by more than one chunk.
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise TargetError(f"answer body passed the {cap}-byte limit")
                    chunks.append(chunk)
                return (
                    response.status_code,
                    b"".join(chunks),
                    _retry_after(response.headers.get("retry-after")),
                )

    async def complete(self, messages: list[Message], *, max_tokens: int) -> Completion:
        """POST the conversation; retry 429/5xx/transport errors with jittered backoff."""
        payload = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "stream": False,
        }
        started = time.monotonic()
        sent = 0
        last = "no attempt made"
        for attempt in range(self.limits.retries + 1):
            if attempt:
                delay = random.uniform(
                    0, min(self.limits.backoff_cap, self.limits.backoff_base * 2**attempt)
                )
                await asyncio.sleep(delay)
            epoch = await self.limiter.acquire()
            congested = False
            try:
                self.budget.take_request()
                sent += 1
                try:
                    status, body, retry_after = await self._once(payload)
                except TimeoutError:
                    self._count("timeout")
                    congested = True
                    last = f"no complete answer within {self.limits.request_timeout:g} s"
                    continue
                except httpx.HTTPError as exc:
                    self._count("transport")
                    congested = True
                    last = f"transport error: {type(exc).__name__}: {str(exc)[:200]}"
                    continue
                self._count(str(status))
                if status == 429 or status >= 500:
                    congested = True
                    last = f"HTTP {status}" + (
                        f" (Retry-After {retry_after:g} s)" if retry_after else ""
                    )
                    if retry_after is not None:
                        await self.limiter.pause(retry_after)
                    continue
                if status != 200:
                    raise TargetError(f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
                text, p_tok, c_tok = _parse_chat(body, max_chars=self.limits.max_text_chars)
                self.budget.add_tokens((p_tok or 0) + (c_tok or 0))
                return Completion(text, p_tok, c_tok, sent, round(time.monotonic() - started, 4))
            finally:
                await self.limiter.release(epoch, congested=congested)
        raise TargetError(f"gave up after {sent} request(s): {last}")

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _chat_prompt(messages: list[Message]) -> str:
    # Models without a chat template get a plain transcript ending with the assistant's turn.
    lines = [f"{m.role}: {m.content}" for m in messages]
    return "\n".join([*lines, "assistant:"])


@dataclass
class LocalModelTarget:
    """A transformers causal LM in this process, with micro-batched greedy generation.

    ``source`` is a folder written by ``save_pretrained`` (weights read from safetensors only,
    no remote code) or a ``config.json``, which builds a randomly initialised model with a fixed
    seed (for testing the pipeline with no download). Without a tokenizer in the folder, text
    is encoded as UTF-8 bytes, which needs a vocabulary of at least 259 tokens.
    """

    source: str
    batch_size: int = 8
    seed: int = 0
    max_prompt_tokens: int = 512
    budget: Budget = field(default_factory=Budget)
    name: str = "local-transformers"
    _model: Any = field(default=None, init=False, repr=False)
    _tokenizer: Any = field(default=None, init=False, repr=False)
    _queue: asyncio.Queue[tuple[str, int, asyncio.Future[tuple[str, int, int]]]] | None = field(
        default=None, init=False, repr=False
    )
    _worker: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _digest: str = field(default="", init=False)

    def fingerprint(self) -> dict[str, Any]:
        """Source path and a digest of the model's config (read without loading the model)."""
        if not self._digest:
            from pathlib import Path

            path = Path(self.source)
            config_file = path if path.is_file() else path / "config.json"
            if config_file.is_file():
                self._digest = hashlib.sha256(config_file.read_bytes()).hexdigest()
        return {"kind": self.name, "source": self.source, "config_sha256": self._digest}

    def _load(self) -> None:
        from pathlib import Path

        try:
            import torch
            import transformers
        except ImportError as exc:
            raise TargetError(
                f"local models need the optional extra (pip install transformers): {exc}"
            ) from None
        path = Path(self.source)
        config_file = path if path.is_file() else path / "config.json"
        if not config_file.is_file():
            raise TargetError(f"{self.source}: no config.json there")
        self._digest = hashlib.sha256(config_file.read_bytes()).hexdigest()
        has_weights = path.is_dir() and any(path.glob("*.safetensors"))
        if has_weights:
            model = transformers.AutoModelForCausalLM.from_pretrained(
                str(path), use_safetensors=True, trust_remote_code=False, local_files_only=True
            )
        else:
            config = transformers.AutoConfig.from_pretrained(
                str(config_file), local_files_only=True
            )
            torch.manual_seed(self.seed)
            model = transformers.AutoModelForCausalLM.from_config(config)  # type: ignore[no-untyped-call]
        model.eval()  # type: ignore[no-untyped-call]
        self._model = model
        tokenizer_dir = path if path.is_dir() else path.parent
        if (tokenizer_dir / "tokenizer.json").is_file():
            tok = transformers.AutoTokenizer.from_pretrained(
                str(tokenizer_dir), local_files_only=True
            )
            tok.padding_side = "left"
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            self._tokenizer = tok
        elif model.config.vocab_size < 259:
            raise TargetError(f"{self.source}: no tokenizer.json and vocabulary below 259 tokens")

    def _encode(self, texts: list[str]) -> tuple[Any, Any]:
        import torch

        if self._tokenizer is not None:
            enc = self._tokenizer(
                texts,
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.max_prompt_tokens,
            )
            return enc["input_ids"], enc["attention_mask"]
        # Byte fallback: ids 3..258 are bytes, 0 is padding; left padding for generation.
        rows = [[b + 3 for b in t.encode()[-self.max_prompt_tokens :]] for t in texts]
        width = max(len(r) for r in rows)
        ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        return ids, mask

    def _decode(self, ids: list[int]) -> str:
        if self._tokenizer is not None:
            return str(self._tokenizer.decode(ids, skip_special_tokens=True))
        return bytes(i - 3 for i in ids if 3 <= i < 259).decode("utf-8", "replace")

    def generate_batch(self, prompts: list[str], max_tokens: int) -> list[tuple[str, int, int]]:
        """Greedy generation for a batch of prompts: (text, prompt tokens, new tokens)."""
        import torch

        if self._model is None:
            self._load()
        ids, mask = self._encode(prompts)
        pad = self._tokenizer.pad_token_id if self._tokenizer is not None else 0
        with torch.no_grad():
            out = self._model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=max_tokens,
                do_sample=False,
                pad_token_id=pad,
            )
        width = ids.shape[1]
        return [
            (self._decode(row[width:].tolist()), int(m.sum()), int(row.shape[0] - width))
            for row, m in zip(out, mask, strict=True)
        ]

    async def _serve(self) -> None:
        assert self._queue is not None
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            # Items of one batch share max_tokens; the longest request decides.
            limit = max(item[1] for item in batch)
            try:
                results = await asyncio.to_thread(self.generate_batch, [b[0] for b in batch], limit)
            except TargetError as exc:
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_exception(TargetError(str(exc)))
                continue
            except Exception as exc:  # a model failure must fail the attempts, not the run
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_exception(
                            TargetError(f"local generation failed: {type(exc).__name__}: {exc}")
                        )
                continue
            for (_, _, fut), result in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(result)

    async def complete(self, messages: list[Message], *, max_tokens: int) -> Completion:
        """Queue the conversation for the next batch and wait for its answer."""
        self.budget.take_request()
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._serve())
        started = time.monotonic()
        fut: asyncio.Future[tuple[str, int, int]] = asyncio.get_running_loop().create_future()
        await self._queue.put((_chat_prompt(messages), max_tokens, fut))
        text, p_tok, c_tok = await fut
        self.budget.add_tokens(p_tok + c_tok)
        return Completion(text, p_tok, c_tok, 1, round(time.monotonic() - started, 4))

    async def aclose(self) -> None:
        """Stop the batching worker."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
            self._queue = None
