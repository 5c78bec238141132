"""yibao — a medical-security platform (医疗保障信息平台) for one pooling region (统筹区).

Domains live in sub-packages: ``policy`` (policy packs), ``registry`` (persons, enrollment,
contributions, accounts), ``catalog`` (code sets and the 医保目录), ``store`` (the operational
database), ``synth`` (synthetic regions), ``settlement`` and ``payment`` (engines).
"""

__version__ = "0.1.0"
