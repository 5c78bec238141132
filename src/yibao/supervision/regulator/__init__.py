"""The regulator's work (基金监管业务): cases, 举报, 双随机一公开, 费用审核 sampling and credit."""

from __future__ import annotations

__all__: list[str] = []
