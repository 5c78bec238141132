"""National code values shared by every domain (定点医药机构接口规范 dictionaries), with the few
categories yibao names itself where the national list has no single code."""

from __future__ import annotations

# 险种类型 insutype
EMPLOYEE = "310"  # 职工基本医疗保险
RESIDENT = "390"  # 城乡居民基本医疗保险
CIVIL_SERVANT = "320"  # 公务员医疗补助
INSUTYPES = {EMPLOYEE: "职工基本医疗保险", RESIDENT: "城乡居民基本医疗保险", CIVIL_SERVANT: "公务员医疗补助"}

# 人员类别 psn_type (national values)
PSN_TYPES = {
    "11": "在职",
    "12": "退休",
    "13": "离休",
    "1401": "新生儿",
    "1402": "学龄前儿童",
    "1403": "中小学生",
    "1404": "大学生",
    "15": "居民（成年）",
    "16": "居民（老年）",
}
ACTIVE, RETIRED = "11", "12"
EMPLOYEE_PSN_TYPES = frozenset({"11", "12", "13"})
RESIDENT_PSN_TYPES = frozenset({"1401", "1402", "1403", "1404", "15", "16"})

# How an employee contributes: through an employer, or alone as a 灵活就业 worker.
EMP_KINDS = {"employer": "单位职工", "flexible": "灵活就业"}

# 医疗救助 identity categories (资助参保 and 救助 tiers); national 人员身份类别 code where one exists.
IDENTITIES = {
    "tekun": ("特困供养人员", "2301"),
    "dibao": ("低保对象", "2303"),
    "fanpin": ("返贫致贫人口", "2302"),
    "dibao_edge": ("低保边缘家庭成员", "2360"),
    "disabled": ("重度残疾人", "2308"),
    "monitored": ("防止返贫监测对象", "2360"),
    "illness_poor": ("因病致贫重病患者", "2306"),
}

# 医疗类别 med_type (the values the engines use)
MED_TYPES = {
    "11": "普通门诊",
    "13": "急诊",
    "14": "门诊慢特病",
    "9901": "门诊两病",
    "41": "定点药店购药",
    "51": "生育门诊",
    "21": "住院",
    "2101": "普通住院",
    "28": "日间手术",
    "52": "生育住院",
}
INPATIENT_MED_TYPES = frozenset({"21", "2101", "28", "52"})

# 医疗机构等级 as the benefit rules use them (一/二/三级 and 未定级), and institution kinds.
LEVELS = {"3": "三级", "2": "二级", "1": "一级", "0": "未定级"}
INSTITUTION_KINDS = {"hospital": "医院", "primary": "基层医疗机构", "pharmacy": "定点零售药店"}

# 离院方式 dscg_way
DISCHARGE_WAYS = {"1": "医嘱离院", "2": "医嘱转院", "3": "医嘱转社区", "4": "非医嘱离院", "5": "死亡", "9": "其他"}

# 目录类别 of catalog items and their 甲/乙/丙 class
ITEM_KINDS = {"drug": "药品", "service": "医疗服务项目", "consumable": "医用耗材"}
ITEM_CLASSES = {"A": "甲类", "B": "乙类", "C": "丙类"}

# 基金支付类型 fund_pay_type for the setldetail rows
FUND_PAY_TYPES = {
    "310100": "城镇职工基本医疗保险统筹基金",
    "310200": "城镇职工基本医疗保险个人账户基金",
    "320100": "公务员医疗补助基金",
    "330100": "大额医疗费用补助基金",
    "370100": "企业补充医疗保险基金",
    "390100": "城乡居民基本医疗保险基金",
    "390200": "城乡居民大病医疗保险基金",
    "510100": "生育基金",
    "610100": "医疗救助基金",
    "999997": "其他基金",
}
