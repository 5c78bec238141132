"""National code values shared by every domain (定点医药机构接口规范 dictionaries), with the few
categories yibao names itself where the national list has no single code."""

from __future__ import annotations

# 险种类型 insutype
EMPLOYEE = "310"  # 职工基本医疗保险
RESIDENT = "390"  # 城乡居民基本医疗保险
CIVIL_SERVANT = "320"  # 公务员医疗补助
INSUTYPES = {EMPLOYEE: "职工基本医疗保险", RESIDENT: "城乡居民基本医疗保险", CIVIL_SERVANT: "公务员医疗补助"}

# 人员类别 psn_type (national values)
ACTIVE = "11"  # 在职
RETIRED = "12"  # 退休
RETIRED_CADRE = "13"  # 离休
NEWBORN = "1401"  # 新生儿
PRESCHOOL_CHILD = "1402"  # 学龄前儿童
SCHOOL_PUPIL = "1403"  # 中小学生
COLLEGE_STUDENT = "1404"  # 大学生
ADULT_RESIDENT = "15"  # 居民（成年）
ELDER_RESIDENT = "16"  # 居民（老年）
PSN_TYPES = {
    ACTIVE: "在职",
    RETIRED: "退休",
    RETIRED_CADRE: "离休",
    NEWBORN: "新生儿",
    PRESCHOOL_CHILD: "学龄前儿童",
    SCHOOL_PUPIL: "中小学生",
    COLLEGE_STUDENT: "大学生",
    ADULT_RESIDENT: "居民（成年）",
    ELDER_RESIDENT: "居民（老年）",
}
EMPLOYEE_PSN_TYPES = frozenset({ACTIVE, RETIRED, RETIRED_CADRE})
RETIRED_PSN_TYPES = frozenset({RETIRED, RETIRED_CADRE})  # 退休 and 离休
RESIDENT_PSN_TYPES = frozenset({
    NEWBORN, PRESCHOOL_CHILD, SCHOOL_PUPIL, COLLEGE_STUDENT, ADULT_RESIDENT, ELDER_RESIDENT,
})

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
MED_OUTPATIENT = "11"  # 普通门诊
MED_EMERGENCY = "13"  # 急诊
MED_CHRONIC = "14"  # 门诊慢特病
MED_TWO_DISEASES = "9901"  # 门诊两病 (高血压、糖尿病)
MED_PHARMACY = "41"  # 定点药店购药
MED_MATERNITY_OUTPATIENT = "51"  # 生育门诊
MED_INPATIENT = "21"  # 住院
MED_ORDINARY_INPATIENT = "2101"  # 普通住院
MED_DAY_SURGERY = "28"  # 日间手术
MED_MATERNITY_INPATIENT = "52"  # 生育住院
MED_TYPES = {
    MED_OUTPATIENT: "普通门诊",
    MED_EMERGENCY: "急诊",
    MED_CHRONIC: "门诊慢特病",
    MED_TWO_DISEASES: "门诊两病",
    MED_PHARMACY: "定点药店购药",
    MED_MATERNITY_OUTPATIENT: "生育门诊",
    MED_INPATIENT: "住院",
    MED_ORDINARY_INPATIENT: "普通住院",
    MED_DAY_SURGERY: "日间手术",
    MED_MATERNITY_INPATIENT: "生育住院",
}
INPATIENT_MED_TYPES = frozenset({MED_INPATIENT, MED_ORDINARY_INPATIENT, MED_DAY_SURGERY, MED_MATERNITY_INPATIENT})

# 医疗机构等级 as the benefit rules use them (一/二/三级 and 未定级), and institution kinds.
LEVEL_THREE, LEVEL_TWO, LEVEL_ONE, UNRATED = "3", "2", "1", "0"  # 三级, 二级, 一级, 未定级
LEVELS = {LEVEL_THREE: "三级", LEVEL_TWO: "二级", LEVEL_ONE: "一级", UNRATED: "未定级"}
INSTITUTION_KINDS = {"hospital": "医院", "primary": "基层医疗机构", "pharmacy": "定点零售药店"}

# 离院方式 dscg_way
DISCHARGE_ORDERED = "1"  # 医嘱离院
DISCHARGE_TRANSFERRED = "2"  # 医嘱转院
DISCHARGE_TO_COMMUNITY = "3"  # 医嘱转社区卫生服务机构/乡镇卫生院
DISCHARGE_AGAINST_ADVICE = "4"  # 非医嘱离院
DISCHARGE_DIED = "5"  # 死亡
DISCHARGE_OTHER = "9"  # 其他
DISCHARGE_WAYS = {
    DISCHARGE_ORDERED: "医嘱离院", DISCHARGE_TRANSFERRED: "医嘱转院", DISCHARGE_TO_COMMUNITY: "医嘱转社区",
    DISCHARGE_AGAINST_ADVICE: "非医嘱离院", DISCHARGE_DIED: "死亡", DISCHARGE_OTHER: "其他",
}

# 目录类别 of catalog items and their 甲/乙/丙 class
ITEM_KINDS = {"drug": "药品", "service": "医疗服务项目", "consumable": "医用耗材"}
ITEM_CLASSES = {"A": "甲类", "B": "乙类", "C": "丙类"}

# 基金支付类型 fund_pay_type for the setldetail rows
FUND_EMPLOYEE_POOLING = "310100"  # 城镇职工基本医疗保险统筹基金
FUND_EMPLOYEE_ACCOUNT = "310200"  # 城镇职工基本医疗保险个人账户基金
FUND_CIVIL_SERVANT = "320100"  # 公务员医疗补助基金
FUND_LARGE_EXPENSE = "330100"  # 大额医疗费用补助基金 (职工大额)
FUND_ENTERPRISE_SUPPLEMENTARY = "370100"  # 企业补充医疗保险基金
FUND_RESIDENT_POOLING = "390100"  # 城乡居民基本医疗保险基金
FUND_RESIDENT_SERIOUS_ILLNESS = "390200"  # 城乡居民大病医疗保险基金
FUND_MATERNITY = "510100"  # 生育基金
FUND_MEDICAL_ASSISTANCE = "610100"  # 医疗救助基金
FUND_OTHER = "999997"  # 其他基金
FUND_PAY_TYPES = {
    FUND_EMPLOYEE_POOLING: "城镇职工基本医疗保险统筹基金",
    FUND_EMPLOYEE_ACCOUNT: "城镇职工基本医疗保险个人账户基金",
    FUND_CIVIL_SERVANT: "公务员医疗补助基金",
    FUND_LARGE_EXPENSE: "大额医疗费用补助基金",
    FUND_ENTERPRISE_SUPPLEMENTARY: "企业补充医疗保险基金",
    FUND_RESIDENT_POOLING: "城乡居民基本医疗保险基金",
    FUND_RESIDENT_SERIOUS_ILLNESS: "城乡居民大病医疗保险基金",
    FUND_MATERNITY: "生育基金",
    FUND_MEDICAL_ASSISTANCE: "医疗救助基金",
    FUND_OTHER: "其他基金",
}
# The basic pooling fund of each 险种
POOLING_FUNDS = {EMPLOYEE: FUND_EMPLOYEE_POOLING, RESIDENT: FUND_RESIDENT_POOLING}


# 异地就医 status of a claim treated outside the person's pooling region: the registry's 备案 kinds, and
# what a claim without one is
FILING_KINDS = {"filed": "异地长期居住人员备案", "referred": "转诊转院备案"}
FILING_EMERGENCY, FILING_NONE = "emergency", "unfiled"  # 急诊抢救 (no filing needed), 未备案
