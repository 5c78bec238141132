"""Policy packs (policy as code): dated, cited parameters per region, resolved at a date of service."""

from yibao.policy.pack import Citation, Pack, Params, available_packs, load_pack, read_pack

__all__ = ["Citation", "Pack", "Params", "available_packs", "load_pack", "read_pack"]
