"""One error tree for the whole Lotse.

Every error carries a German message a user can act on (``str(err)``) and an English one (``err.message_en``).
Front ends show them as they are; the HTTP layer maps the classes to status codes in one handler.

    LotseError
    ├── ConfigError                    settings unusable (bad URL, missing model name, ...)
    ├── IngestError                    one file could not be indexed; the run goes on
    │   ├── UnsupportedFormatError     unknown file type
    │   ├── FileTooLargeError          over the configured size or page limit
    │   ├── UnsafePathError            symlink out of the root, hostile name
    │   ├── EncryptedDocumentError     password-protected PDF
    │   ├── NoTextLayerError           scanned PDF without text, empty file
    │   └── ParseError                 damaged or not the format its name claims
    │       ├── ParseTimeoutError      parser took longer than allowed
    │       └── ParseMemoryError       parser needed more memory than allowed
    ├── IndexError_                    the index as a whole is unusable
    │   ├── IndexLockedError           another writer holds the index
    │   ├── EmbeddingMismatchError     index built with another embedding model
    │   └── StoreUnavailableError      Chroma data directory or server not reachable
    ├── EmbeddingError                 embedding backend failed
    ├── RetrievalError                 query could not be served
    ├── InputError                     user input rejected before any work (too long, malformed)
    ├── RateLimitError                 one client asked too often
    └── LLMError                       language model endpoint failed
        ├── LLMUnavailableError        connection refused, DNS, 5xx after retries
        ├── LLMTimeoutError            connect, first-token or overall deadline exceeded
        └── LLMResponseError           malformed stream, empty choices, truncated output
"""

from __future__ import annotations


class LotseError(Exception):
    """Base of all Lotse errors.

    Args:
        message: German message for the user, saying what happened and how to fix it.
        message_en: The same in English; defaults to the German text.
    """

    code = "lotse_error"

    def __init__(self, message: str, message_en: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message

    def localized(self, lang: str = "de") -> str:
        return self.message_en if lang == "en" else self.message


class ConfigError(LotseError):
    code = "config_error"


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


class IndexError_(LotseError):  # noqa: N801 - trailing underscore avoids shadowing the builtin
    code = "index_error"


class IndexLockedError(IndexError_):
    code = "index_locked"


class EmbeddingMismatchError(IndexError_):
    code = "embedding_mismatch"


class StoreUnavailableError(IndexError_):
    code = "store_unavailable"


class EmbeddingError(LotseError):
    code = "embedding_error"


class RetrievalError(LotseError):
    code = "retrieval_error"


class InputError(LotseError):
    code = "input_error"


class RateLimitError(LotseError):
    code = "rate_limited"


class LLMError(LotseError):
    code = "llm_error"


class LLMUnavailableError(LLMError):
    code = "llm_unavailable"


class LLMTimeoutError(LLMError):
    code = "llm_timeout"


class LLMResponseError(LLMError):
    code = "llm_bad_response"
