"""Code sets (医保版 ICD-10 / ICD-9-CM-3) and the 医保目录 catalog: items, classes, prices, restrictions,
versions, and the NHSA audit rules knowledge base.

The face: code sets ``icd10()``, ``icd9()``, ``tcm_disease()``, ``tcm_syndrome()`` (``CodeSet``); the
catalog ``load_catalog()`` (``Catalog``), ``catalog_table()``, ``claim_context()``, ``service_prices()``,
``drug_categories()``, ``drug_category()``; 限定支付范围 text ``parse_restriction()`` (``Restriction``).
Modules: ``codes``, ``items``, ``restrictions``, ``rules`` (NHSA 两库 tables, ``yibao.catalog.rules``),
``cli`` (``yibao catalog`` / ``yibao codes``), ``build`` (rebuilds the shipped data from the reference
lists). The names are imported on use, so importing the package loads neither pandas nor pyarrow.
"""

from __future__ import annotations

from yibao import _lazy_face

__all__ = [
    "Catalog", "CodeSet", "Restriction", "catalog_table", "claim_context", "drug_categories", "drug_category",
    "icd10", "icd9", "load_catalog", "parse_restriction", "service_prices", "tcm_disease", "tcm_syndrome",
]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.catalog.codes": ("CodeSet", "icd10", "icd9", "tcm_disease", "tcm_syndrome"),
    "yibao.catalog.items": ("Catalog", "catalog_table", "claim_context", "drug_categories", "drug_category",
                            "load_catalog", "service_prices"),
    "yibao.catalog.restrictions": ("Restriction", "parse_restriction"),
})
