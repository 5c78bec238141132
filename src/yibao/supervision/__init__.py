"""Fund supervision (基金监管): 事前/事中 checks and 事后 rules, anomalies, sampling, cases and credit.

No module is here yet, so the package exports nothing; the NHSA 两库 rule tables it will read are in
``yibao.catalog.rules``.
"""

__all__: list[str] = []
