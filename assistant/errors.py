"""One error tree for the whole Lotse.

Every error carries a German message a user can act on (``str(err)``) and an English one (``err.message_en``).
For failures of the backends that message names internal URLs and exception texts, which are for the operator,
so those classes have a short public text instead (``err.public(lang)``). Every channel (web UI, widget and API,
OpenAI endpoint, CLI) turns any exception into words with `public_error`, so the same failure reads the same
everywhere, and an exception outside this tree is an internal error there; the logs keep the details, and the
CLI, run by operators, prints them below the public text. The HTTP layer maps classes to status codes.

    LotseError
    ├── ConfigError                    settings unusable (bad URL, missing model name, ...)
    ├── IngestError                    one file could not be indexed; the run goes on
    │   ├── UnsupportedFormatError     unknown file type
    │   ├── FileTooLargeError          over the configured size or page limit
    │   ├── UnsafePathError            symlink out of the root, hostile name
    │   ├── EncryptedDocumentError     password-protected PDF
    │   ├── NoTextLayerError           scanned PDF without text, empty file
    │   ├── ParseError                 damaged or not the format its name claims
    │   │   ├── ParseTimeoutError      parser took longer than allowed
    │   │   └── ParseMemoryError       parser needed more memory than allowed
    │   └── WebFetchError              a web page or linked file could not be fetched (``transient``: retry later)
    ├── IndexError_                    the index as a whole is unusable
    │   ├── IndexLockedError           another writer holds the index
    │   ├── EmbeddingMismatchError     index built with another embedding model
    │   └── StoreUnavailableError      Chroma data directory or server not reachable
    ├── EmbeddingError                 embedding backend failed
    ├── RetrievalError                 query could not be served
    ├── InputError                     user input rejected before any work (too long, malformed)
    │   ├── NotFoundError              no such document or web source
    │   └── ConflictError              the request clashes with the index (name taken, not editable here)
    ├── RateLimitError                 one client asked too often
    └── LLMError                       language model endpoint failed
        ├── LLMUnavailableError        connection refused, DNS, 5xx after retries
        ├── LLMTimeoutError            connect, first-token or overall deadline exceeded
        └── LLMResponseError           malformed stream, empty choices, truncated output
"""

from __future__ import annotations

from dataclasses import dataclass


class LotseError(Exception):
    """Base of all Lotse errors.

    Args:
        message: German message for the user, saying what happened and how to fix it.
        message_en: The same in English; defaults to the German text.
    """

    code = "lotse_error"
    #: Short (German, English) text for the public when the detailed message is for operators only.
    public_text: tuple[str, str] | None = None

    def __init__(self, message: str, message_en: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message

    def localized(self, lang: str = "de") -> str:
        return self.message_en if lang == "en" else self.message

    def public(self, lang: str = "de") -> str:
        """What a member of the public may read: the message, or the class's short text for backend failures."""
        if self.public_text is None:
            return self.localized(lang)
        return self.public_text[1] if lang == "en" else self.public_text[0]


class ConfigError(LotseError):
    code = "config_error"
    public_text = ("Der Lotse ist nicht richtig eingerichtet. Bitte wenden Sie sich an die Betreiber.",
                   "The Lotse is not set up correctly. Please contact its operators.")


class IngestError(LotseError):
    code = "ingest_error"


class UnsupportedFormatError(IngestError):
    code = "unsupported_format"


class FileTooLargeError(IngestError):
    code = "file_too_large"


class UnsafePathError(IngestError):
    code = "unsafe_path"


class EncryptedDocumentError(IngestError):
    code = "encrypted"


class NoTextLayerError(IngestError):
    code = "no_text"


class ParseError(IngestError):
    code = "parse_error"


class ParseTimeoutError(ParseError):
    code = "parse_timeout"


class ParseMemoryError(ParseError):
    code = "parse_memory"


class WebFetchError(IngestError):
    """A web document could not be fetched. ``transient``: worth trying again later (timeout, 5xx, 429)."""

    code = "web_fetch"

    def __init__(self, message: str, message_en: str, *, transient: bool = False, status: int | None = None):
        super().__init__(message, message_en)
        self.transient = transient
        self.status = status


class IndexError_(LotseError):  # noqa: N801 - trailing underscore avoids shadowing the builtin
    code = "index_error"


class IndexLockedError(IndexError_):
    code = "index_locked"


class EmbeddingMismatchError(IndexError_):
    code = "embedding_mismatch"


class StoreUnavailableError(IndexError_):
    code = "store_unavailable"
    public_text = ("Wissensbasis nicht verfügbar. Bitte versuchen Sie es in einigen Minuten erneut.",
                   "Knowledge base unavailable. Please try again in a few minutes.")


class EmbeddingError(LotseError):
    code = "embedding_error"
    public_text = ("Die Suche ist gerade nicht verfügbar. Bitte versuchen Sie es in einigen Minuten erneut.",
                   "Search is unavailable right now. Please try again in a few minutes.")


class RetrievalError(LotseError):
    code = "retrieval_error"
    public_text = EmbeddingError.public_text


class InputError(LotseError):
    code = "input_error"


class NotFoundError(InputError):
    code = "not_found"


class ConflictError(InputError):
    code = "conflict"


class RateLimitError(LotseError):
    code = "rate_limited"


class LLMError(LotseError):
    code = "llm_error"
    public_text = ("Das Sprachmodell ist nicht erreichbar.", "The language model is unavailable.")


class LLMUnavailableError(LLMError):
    code = "llm_unavailable"


class LLMTimeoutError(LLMError):
    code = "llm_timeout"
    public_text = ("Das Sprachmodell hat nicht rechtzeitig geantwortet.", "The language model did not answer in time.")


class LLMResponseError(LLMError):
    code = "llm_bad_response"
    public_text = ("Das Sprachmodell hat eine unbrauchbare Antwort geliefert.",
                   "The language model returned an unusable answer.")


#: What the public reads for a failure outside the tree above (a bug); the details go to the log.
INTERNAL_TEXT = (
    "Interner Fehler. Bitte versuchen Sie es erneut; bleibt der Fehler, melden Sie ihn der Redaktion.",
    "Internal error. Please try again; if it persists, tell the editors.",
)


@dataclass(frozen=True)
class PublicError:
    """A failure as every channel shows it: a stable ``code`` and the public text in German and English."""

    code: str
    de: str
    en: str

    def text(self, lang: str = "de") -> str:
        return self.en if lang == "en" else self.de


def public_error(error: BaseException) -> PublicError:
    """The one mapping from any exception to what a user may read (no internal URLs, no exception texts)."""
    if isinstance(error, LotseError):
        return PublicError(error.code, error.public("de"), error.public("en"))
    return PublicError("internal", *INTERNAL_TEXT)
