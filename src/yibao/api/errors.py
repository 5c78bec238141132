"""Errors of the national interface: each carries the Chinese ``err_msg`` a HIS is sent back."""

from __future__ import annotations

from yibao.errors import ValidationError

ERR_MSG_LIMIT = 200  # 表3: err_msg 字符型 200


class InterfaceError(ValidationError):
    """A message a HIS sent that the interface refuses (infcode -1).

    ``field`` is the spec code at fault (``medfee_sumamt``), ``err_msg`` the Chinese message naming that
    code, its 名称 and the problem, cut to the spec's 200 characters; ``kind`` names the rule broken
    (``sub_fen``, ``not_in_dict`` …) so callers and tests can tell the refusals apart.
    """

    def __init__(self, field: str, message: str, kind: str = "invalid"):
        self.err_msg = message if len(message) <= ERR_MSG_LIMIT else message[: ERR_MSG_LIMIT - 1] + "…"
        self.kind = kind
        super().__init__(field, self.err_msg)

    def __str__(self) -> str:
        return self.err_msg


__all__ = ["ERR_MSG_LIMIT", "InterfaceError"]
