"""Code sets (医保版 ICD-10 / ICD-9-CM-3) and the 医保目录 catalog: items, classes, prices, restrictions,
versions, and the NHSA audit rules knowledge base.

Modules: ``codes`` (``icd10()``, ``icd9()``, ``tcm_disease()``, ``tcm_syndrome()``), ``items``
(``load_catalog()``, ``service_prices()``, ``drug_categories()``, ``Catalog``), ``restrictions``
(parsing 限定支付范围 text), ``rules`` (NHSA 两库 tables), ``cli`` (``yibao catalog`` / ``yibao codes``),
``build`` (rebuilds the shipped data from the reference lists).
"""
