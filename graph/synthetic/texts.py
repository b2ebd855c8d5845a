"""Chinese titles, texts and amounts of needs, worded from the situation of the household.

Texts state a need concretely (the condition, the member's role and age, what is wanted and what it
costs) but never a name, ID number, phone or house number, so they can be shown to helpers as is.
Randomness comes in as pre-drawn uniforms so the wording follows the county's numpy stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from bangfu.vocabulary import NeedCategory

T = TypeVar("T")


@dataclass(frozen=True)
class Member:
    """What a need text may say about the member it is about."""

    role: str  # 户主, 妻子, 儿子 ... never a name
    age: int
    male: bool
    severity: int = 0  # 0 healthy, 1 chronic, 2 serious
    disability_grade: int = 0
    disability_kind: str = ""


@dataclass(frozen=True)
class Situation:
    member: Member
    disaster: bool  # the household was hit by a disaster
    living_alone: bool  # the member lives alone


class _Dice:
    """Reads pre-drawn uniforms in order; wraps around if a template asks for many."""

    def __init__(self, uniforms: Sequence[float]) -> None:
        self._u = uniforms
        self._i = 0

    def next(self) -> float:
        value = self._u[self._i % len(self._u)]
        self._i += 1
        return value

    def pick(self, options: Sequence[T]) -> T:
        return options[min(len(options) - 1, int(self.next() * len(options)))]

    def amount(self, low: int, high: int, step: int = 100) -> int:
        raw = low + self.next() * (high - low)
        return max(step, round(raw / step) * step)


_GRADE = {1: "一", 2: "二", 3: "三", 4: "四"}

# (disease, treatment, female only)
_CHRONIC = (
    ("高血压", "需要长期服用降压药", False),
    ("糖尿病", "每天注射胰岛素", False),
    ("慢性阻塞性肺病", "反复住院治疗", False),
    ("类风湿关节炎", "需要长期服药控制病情", False),
    ("冠心病", "需要长期服药并定期复查", False),
    ("慢性肾病", "需要定期复查肾功能", False),
    ("腰椎间盘突出", "无法从事重体力劳动", False),
    ("慢性乙型肝炎", "需要长期抗病毒治疗", False),
    ("帕金森病", "需要长期服药", False),
    ("脑梗塞后遗症", "需要长期康复治疗", False),
    ("癫痫", "需要长期服用抗癫痫药物", False),
    ("哮喘", "季节变化时经常发作住院", False),
)
_SERIOUS = (
    ("尿毒症", "每周需要透析三次", False),
    ("鼻咽癌", "正在接受放疗和化疗", False),
    ("肺癌", "正在接受化疗", False),
    ("肝癌", "需要手术和后续治疗", False),
    ("胃癌", "术后需要定期化疗", False),
    ("白血病", "需要长期住院化疗", False),
    ("乳腺癌", "术后需要继续化疗和靶向治疗", True),
    ("宫颈癌", "正在接受放疗", True),
    ("脑出血", "术后瘫痪在床，需要长期康复", False),
    ("淋巴瘤", "需要多个疗程的化疗", False),
    ("心脏瓣膜病", "需要尽快进行心脏手术", False),
    ("重症肌无力", "需要长期住院治疗", False),
)

# Assistive devices by kind of disability: (device, low, high) in yuan.
_DEVICES: dict[str, tuple[tuple[str, int, int], ...]] = {
    "肢体": (
        ("轮椅", 800, 2_500),
        ("假肢", 6_000, 20_000),
        ("助行器", 300, 800),
        ("护理床", 2_000, 5_000),
    ),
    "视力": (("助视器", 500, 3_000), ("盲杖和读屏手机", 800, 2_000)),
    "听力": (("助听器", 2_000, 8_000),),
    "智力": (("防走失定位手环", 300, 800),),
    "精神": (("防走失定位手环", 300, 800),),
    "言语": (("沟通辅助器", 500, 2_000),),
    "多重": (("护理床", 2_000, 5_000), ("电动轮椅", 3_000, 8_000)),
}
_SKILLS = (
    "电工",
    "焊工",
    "家政服务",
    "育婴师",
    "电商直播",
    "中式烹调",
    "母婴护理",
    "挖掘机操作",
    "果树栽培",
    "畜禽养殖",
    "汽车维修",
    "缝纫",
    "养老护理",
    "农机操作",
)
_JOBS = ("保洁", "保安", "工厂普工", "物流分拣", "餐饮服务", "建筑小工", "家政", "仓库管理")
_JOB_PLACES = ("本镇", "县城", "本县工业园区", "珠三角地区", "附近的农业基地")
_CROPS = (
    "水稻",
    "沙糖桔",
    "百香果",
    "茶叶",
    "油茶",
    "蜜柚",
    "花生",
    "番薯",
    "荔枝",
    "龙眼",
    "砂仁",
    "蔬菜",
    "丝苗米",
    "三华李",
)
_ANIMALS = ("鸡", "鸭", "鹅", "生猪", "蜜蜂", "肉牛", "罗非鱼")
_INPUTS = ("种苗", "化肥", "农药", "饲料", "有机肥")
_HOUSING = (
    ("居住的泥砖房墙体开裂，雨季漏水，已被鉴定为C级危房", "拆除重建", 25_000, 45_000),
    ("房屋屋顶瓦面破损，台风季节存在安全隐患", "翻修屋顶", 8_000, 18_000),
    ("木结构房屋梁柱腐朽，墙体倾斜", "加固修缮", 12_000, 25_000),
    ("房屋地基下沉，墙体出现多处裂缝，被鉴定为D级危房", "原址重建", 30_000, 45_000),
)
_DISASTER_HOUSING = (
    ("今年汛期房屋被洪水浸泡，部分墙体倒塌，目前借住在亲戚家", "修复重建", 20_000, 45_000),
    ("台风过后房屋屋顶被掀翻，屋内漏雨严重", "修复屋顶", 8_000, 20_000),
)
_WATER = (
    ("家中饮用山泉水，旱季经常断水", "接通自来水管道", 1_500, 5_000),
    ("水井水质浑浊，检测不达标", "安装净水设备", 800, 3_000),
    ("自来水管网还没有通到所在的自然村", "延伸铺设入户水管", 2_000, 6_000),
    ("蓄水池老化渗漏，储水不足", "修建新的蓄水池", 1_500, 4_000),
)
_CREDIT_PLANS = (
    "扩大{crop}种植规模",
    "养殖{animal}",
    "购买农用三轮车跑运输",
    "在村里开办小卖部",
    "开设农家乐",
    "开网店销售本地土特产",
    "承包鱼塘养鱼",
)


def _role_text(m: Member) -> str:
    return f"{m.age}岁的{m.role}"


def compose(
    category: NeedCategory, s: Situation, uniforms: Sequence[float]
) -> tuple[str, str, int]:
    """Title, text and amount (yuan) of one need."""
    d = _Dice(uniforms)
    return _COMPOSERS[category](s, d)


def _medical(s: Situation, d: _Dice) -> tuple[str, str, int]:
    m = s.member
    serious = m.severity >= 2
    pool = [x for x in (_SERIOUS if serious else _CHRONIC) if m.male is False or not x[2]]
    disease, treatment, _ = d.pick(pool)
    amount = d.amount(8_000, 60_000, 500) if serious else d.amount(2_000, 12_000)
    spend = d.amount(amount // 2, amount * 2, 100)
    title = d.pick(
        (
            f"{disease}治疗费用救助",
            "大病医疗救助" if serious else "慢性病用药费用资助",
            f"{m.role}医疗费用资助",
        )
    )
    text = d.pick(
        (
            f"家中{_role_text(m)}患{disease}，{treatment}，每年自付医疗费用约{spend}元。"
            f"申请医疗救助{amount}元。",
            f"{m.role}今年{m.age}岁，确诊{disease}，{treatment}，家庭难以负担，"
            f"希望获得{amount}元医疗费用资助。",
            f"{m.role}患{disease}多年，{treatment}，医保报销后仍有较大缺口。需要医疗救助约{amount}元。",
        )
    )
    return title, text, amount


def _assistive(s: Situation, d: _Dice) -> tuple[str, str, int]:
    m = s.member
    kind = m.disability_kind or "肢体"
    device, low, high = d.pick(_DEVICES[kind])
    amount = d.amount(low, high)
    grade = _GRADE.get(m.disability_grade, "四")
    title = d.pick((f"申请配置{device}", f"{kind}残疾辅助器具适配", f"为{m.role}配置{device}"))
    situation = d.pick(
        ("日常出行困难", "生活自理能力差", "现有器具已经老旧损坏", "影响正常生活和劳动")
    )
    text = d.pick(
        (
            f"家中{_role_text(m)}为{grade}级{kind}残疾，{situation}，需要配置{device}，"
            f"预计费用约{amount}元。",
            f"{m.role}持有{grade}级{kind}残疾证，{situation}。希望帮助适配{device}。",
        )
    )
    return title, text, amount


def _tuition(s: Situation, d: _Dice) -> tuple[str, str, int]:
    m = s.member
    if m.age <= 11:
        stage, amount = "小学", d.amount(800, 2_000)
    elif m.age <= 14:
        stage, amount = "初中", d.amount(1_000, 3_000)
    elif m.age <= 17:
        stage, amount = d.pick(("高中", "中职")), d.amount(3_000, 8_000)
    else:
        stage, amount = d.pick(("大学本科", "高职院校")), d.amount(6_000, 15_000, 500)
    detail = d.pick(("成绩优秀", "在县城寄宿读书", f"今年刚升入{stage}", "需要在外租房就读"))
    what = "生活费和寄宿费" if stage in ("小学", "初中") else "学费和生活费"
    title = d.pick((f"{stage}学生{what}资助", "困难家庭学生助学", f"资助{m.role}完成{stage}学业"))
    text = d.pick(
        (
            f"家中{m.role}今年{m.age}岁，就读{stage}，{detail}。每年{what}约{amount}元，家庭难以负担。",
            f"{m.role}（{m.age}岁）{detail}，正在读{stage}，需要{what}资助{amount}元。",
        )
    )
    return title, text, amount


def _skills(s: Situation, d: _Dice) -> tuple[str, str, int]:
    m = s.member
    skill = d.pick(_SKILLS)
    condition = d.pick(
        (
            "目前在家务农，收入不稳定",
            "初中文化，没有一技之长",
            "返乡后一直没有稳定工作",
            "只能打零工，收入很低",
        )
    )
    goal = d.pick(("掌握技能后到县城就业", "希望取得职业资格证书", "想学好技术增加收入"))
    amount = d.amount(500, 3_000) if d.next() < 0.5 else 0
    title = d.pick((f"{skill}技能培训", f"申请参加{skill}培训", "职业技能培训需求"))
    text = f"家中{_role_text(m)}{condition}，希望参加{skill}培训，{goal}。"
    if amount:
        text += f"培训费用约{amount}元。"
    return title, text, amount


def _job(s: Situation, d: _Dice) -> tuple[str, str, int]:
    m = s.member
    job = d.pick(_JOBS)
    place = d.pick(_JOB_PLACES)
    wage = d.amount(2_500, 4_500)
    reason = d.pick(
        (
            "需要照顾家中老人，不能远行",
            "之前的工作因工厂停产中断",
            "身体健康，有劳动能力",
            "家庭开支大，急需稳定收入",
        )
    )
    title = d.pick((f"{place}{job}岗位需求", "就业岗位对接", f"为{m.role}推荐{job}工作"))
    text = (
        f"家中{_role_text(m)}{reason}，目前没有工作，希望在{place}找到{job}工作，"
        f"月收入{wage}元左右。"
    )
    return title, text, 0


def _housing(s: Situation, d: _Dice) -> tuple[str, str, int]:
    issue, action, low, high = d.pick(_DISASTER_HOUSING if s.disaster else _HOUSING)
    amount = d.amount(low, high, 500)
    title = d.pick(("危房改造", f"房屋{action}", "住房安全保障"))
    text = f"{issue}。需要{action}，预计费用约{amount}元。"
    if s.living_alone:
        text += "户主独自居住，无力自行维修。"
    return title, text, amount


def _water(s: Situation, d: _Dice) -> tuple[str, str, int]:
    issue, action, low, high = d.pick(_WATER)
    amount = d.amount(low, high)
    title = d.pick(("饮水安全问题", action, "解决安全饮水"))
    text = f"{issue}，饮水安全没有保障。需要{action}，预计费用约{amount}元。"
    return title, text, amount


def _farm(s: Situation, d: _Dice) -> tuple[str, str, int]:
    amount = d.amount(800, 6_000)
    inputs = d.pick(_INPUTS)
    if d.next() < 0.6:
        crop = d.pick(_CROPS)
        area = int(1 + d.next() * 9)
        problem = (
            "去年受灾减产，今年缺少投入"
            if s.disaster
            else d.pick(("缺少资金购买农资", "果树进入挂果期需要追肥", "计划补种新苗"))
        )
        title = d.pick((f"{crop}种植{inputs}帮扶", "农资帮扶", f"{crop}生产投入"))
        text = f"家中种植{area}亩{crop}，{problem}，需要{inputs}，价值约{amount}元。"
    else:
        animal = d.pick(_ANIMALS)
        count = (
            int(20 + d.next() * 180) if animal not in ("生猪", "肉牛") else int(2 + d.next() * 8)
        )
        unit = "头" if animal in ("生猪", "肉牛") else ("箱" if animal == "蜜蜂" else "只")
        if animal == "罗非鱼":
            count, unit = int(500 + d.next() * 2_000), "尾"
        feed = "饲料" if animal != "蜜蜂" else "蜂箱和蜂种"
        title = d.pick((f"{animal}养殖帮扶", f"申请{animal}苗和{feed}", "养殖生产投入"))
        text = f"家中计划养殖{count}{unit}{animal}，缺少{animal}苗和{feed}，需要帮扶约{amount}元。"
    return title, text, amount


def _credit(s: Situation, d: _Dice) -> tuple[str, str, int]:
    plan = d.pick(_CREDIT_PLANS).format(crop=d.pick(_CROPS), animal=d.pick(_ANIMALS))
    amount = d.amount(10_000, 50_000, 1_000)
    years = d.pick((1, 2, 3))
    title = d.pick(("扶贫小额信贷", f"申请贷款{plan}", "发展生产资金需求"))
    text = d.pick(
        (
            f"家中计划{plan}，缺少启动资金，申请扶贫小额信贷{amount}元，期限{years}年。",
            f"{s.member.role}有意{plan}，已做好前期准备，资金缺口约{amount}元，希望获得贴息贷款。",
        )
    )
    return title, text, amount


def _care(s: Situation, d: _Dice) -> tuple[str, str, int]:
    m = s.member
    amount = d.amount(600, 2_000) if d.next() < 0.4 else 0
    if m.disability_grade in (1, 2):
        grade = _GRADE[m.disability_grade]
        title = d.pick(("重度残疾人托养照料", "日间照料服务", "残疾人居家照护"))
        text = (
            f"家中{_role_text(m)}为{grade}级{m.disability_kind or '肢体'}残疾，生活不能自理，"
            f"家人需要外出务工，希望提供日间照料或托养服务。"
        )
    else:
        condition = d.pick(
            ("行动不便", "患有多种慢性病", "视力下降，做饭困难", "腿脚不好，很少出门")
        )
        alone = "独居" if s.living_alone else "留守"
        title = d.pick(("独居老人上门照料", "居家养老服务", "留守老人关爱探访"))
        text = f"{m.age}岁{alone}老人，{condition}，子女都在外地，需要定期上门照料和送餐服务。"
    if amount:
        text += f"每月服务费用约{amount}元。"
    return title, text, amount


_COMPOSERS = {
    NeedCategory.MEDICAL_AID: _medical,
    NeedCategory.ASSISTIVE_DEVICE: _assistive,
    NeedCategory.TUITION: _tuition,
    NeedCategory.SKILLS_TRAINING: _skills,
    NeedCategory.JOB: _job,
    NeedCategory.HOUSING_REPAIR: _housing,
    NeedCategory.WATER: _water,
    NeedCategory.FARM_INPUTS: _farm,
    NeedCategory.MICRO_CREDIT: _credit,
    NeedCategory.CARE: _care,
}
