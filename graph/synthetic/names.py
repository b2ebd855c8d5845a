"""Pools of Chinese person and place names, drawn with numpy so a county's names cost little."""

from __future__ import annotations

import numpy as np

from graph.synthetic.sampling import BoolArray, IntArray

# Common surnames in rural Guangdong (Cantonese, Hakka and Chaoshan areas) with rough weights.
_SURNAME_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("陈", 10.0),
    ("李", 6.5),
    ("黄", 6.0),
    ("张", 4.5),
    ("梁", 3.5),
    ("林", 3.5),
    ("刘", 3.2),
    ("吴", 2.8),
    ("罗", 2.6),
    ("杨", 2.2),
    ("何", 2.0),
    ("郑", 1.8),
    ("王", 1.8),
    ("周", 1.5),
    ("钟", 1.5),
    ("谢", 1.5),
    ("邓", 1.4),
    ("叶", 1.3),
    ("曾", 1.3),
    ("赖", 1.1),
    ("朱", 1.1),
    ("许", 1.0),
    ("苏", 1.0),
    ("冯", 1.0),
    ("蔡", 1.0),
    ("彭", 0.9),
    ("潘", 0.9),
    ("邱", 0.9),
    ("卢", 0.9),
    ("温", 0.8),
    ("廖", 0.8),
    ("谭", 0.8),
    ("郭", 0.8),
    ("余", 0.7),
    ("徐", 0.7),
    ("胡", 0.6),
    ("黎", 0.6),
    ("杜", 0.5),
    ("江", 0.5),
    ("陆", 0.5),
    ("莫", 0.5),
    ("邹", 0.5),
    ("方", 0.5),
    ("詹", 0.4),
    ("蓝", 0.4),
    ("古", 0.4),
    ("严", 0.4),
    ("袁", 0.4),
    ("巫", 0.3),
    ("骆", 0.3),
    ("欧", 0.3),
    ("丘", 0.3),
    ("麦", 0.3),
    ("庞", 0.3),
    ("龙", 0.3),
    ("饶", 0.3),
    ("凌", 0.3),
    ("刁", 0.2),
    ("孔", 0.2),
    ("官", 0.2),
    ("植", 0.1),
    ("翁", 0.3),
    ("姚", 0.3),
)
SURNAMES: tuple[str, ...] = tuple(s for s, _ in _SURNAME_WEIGHTS)
_SURNAME_P = np.array([w for _, w in _SURNAME_WEIGHTS]) / sum(w for _, w in _SURNAME_WEIGHTS)

# Given-name characters by sex and by era of birth, because names follow fashion: 亚妹 and 桂英 are
# grandmothers, 梓涵 and 子轩 are schoolchildren.
_GIVEN: dict[tuple[bool, int], str] = {
    (True, 0): "福贵财发生水根金华明德胜荣添广昌基汉庆祥才有永旺炳灿耀新进来全亚强伟",
    (True, 1): "伟强军明华建国平志文辉东海荣德勇斌杰涛锋俊亮成祥振雄彬永红卫兵忠立波",
    (True, 2): "浩宇轩睿泽豪锦源鹏子梓晨俊博文杰涵铭昊然皓轩宏达嘉乐煜航逸宸奕晟一诚",
    (False, 0): "秀英兰芳珍凤娣妹莲桂群玉美珠清素翠嫦带招爱娇金银好亚彩春香梅菊连意",
    (False, 1): "丽娟梅玲红燕霞萍琴珍敏静婷雪慧芬艳红华霞丽芳玉凤秀群小春金美月晓",
    (False, 2): "欣怡佳诗雨思琳颖晓月涵梓萱可馨悦彤妍婉瑶琪雯蕾嘉欣若汐语一紫依晴菲",
}
_GIVEN_POOLS: dict[tuple[bool, int], np.ndarray] = {
    key: np.array(list(chars)) for key, chars in _GIVEN.items()
}


def draw_surnames(rng: np.random.Generator, size: int) -> IntArray:
    """Indices into SURNAMES, weighted by how common each surname is."""
    return rng.choice(len(SURNAMES), size=size, p=_SURNAME_P).astype(np.int64)


def person_names(
    rng: np.random.Generator, surname: IntArray, male: BoolArray, birth_year: IntArray
) -> list[str]:
    """Full names: the given surname plus a sex- and era-appropriate 1- or 2-character name."""
    n = surname.size
    era = np.where(birth_year < 1965, 0, np.where(birth_year < 1990, 1, 2))
    # Single-character given names were more common among people born before 1990.
    two_chars = rng.random(n) < np.where(era == 2, 0.85, 0.7)
    first = np.empty(n, dtype="<U1")
    second = np.empty(n, dtype="<U1")
    u1 = rng.random(n)
    u2 = rng.random(n)
    for (is_male, e), pool in _GIVEN_POOLS.items():
        mask = (male == is_male) & (era == e)
        if mask.any():
            first[mask] = pool[(u1[mask] * pool.size).astype(np.int64)]
            second[mask] = pool[(u2[mask] * pool.size).astype(np.int64)]
    second[~two_chars] = ""
    return [
        SURNAMES[s] + a + b
        for s, a, b in zip(surname.tolist(), first.tolist(), second.tolist(), strict=True)
    ]


# Place-name syllables: first and second characters of county, town and village names.
COUNTY_HEAD = (
    "安平和兴丰宁远昌阳新英德怀连始仁翁乐五华龙紫金源川化"
    "封开罗郁信宜高廉遂徐吴陆揭惠普饶澄蕉梅大埔清佛广云南东西"
)
COUNTY_TAIL = "平安和兴丰宁远昌阳新城德山川化封江源华宁乐州溪岭林康定海水都河泉"
TOWN_HEAD = "石龙凤白青高长平金银马牛竹松梅桃莲水沙田黄红大小上下新东西南北中太和富安永丰古双三九"
TOWN_TAIL = "坑塘坪洞岭坝围寨埔岗湖陂垌山溪口水田坳背墟圩桥径江河潭滩湾头"
VILLAGE_HEAD = "上下大小新老东西南北前后中石竹松梅桃李杏莲荷茶禾谷黄白青红金银马牛羊鸡鹤凤龙虎长高"
VILLAGE_TAIL = "坑塘坪洞岭坝围寨埔岗湖陂垌山溪口水田坳背屋楼排寮角尾头径"


def place_names(
    rng: np.random.Generator, head: str, tail: str, size: int, suffix: str
) -> list[str]:
    """`size` distinct two-syllable names plus `suffix` (unique among themselves)."""
    avoid: set[str] = set()
    names: list[str] = []
    space = len(head) * len(tail)
    while len(names) < size:
        picks = rng.choice(space, size=min(space, 2 * (size - len(names)) + 8), replace=False)
        for p in picks.tolist():
            a, b = head[p // len(tail)], tail[p % len(tail)]
            name = a + b + suffix
            if a == b or name in avoid:
                continue
            avoid.add(name)
            names.append(name)
            if len(names) == size:
                break
    return names
