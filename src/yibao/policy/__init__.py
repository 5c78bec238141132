"""Policy packs (policy as code): dated, cited parameters per region, resolved at a date of service."""

from yibao.policy.pack import NO_LIMIT, Citation, Pack, Params, available_packs, load_pack, read_pack

__all__ = ["Citation", "NO_LIMIT", "Pack", "Params", "available_packs", "load_pack", "read_pack"]
