"""The pages' one message catalog: Chinese by default, English on request.

The language comes from `?lang=zh|en` (remembered in a cookie) or the cookie; nothing else (the
pages serve officials in Guangdong first, so the browser's Accept-Language does not switch them
to English by surprise). Domain labels (need categories, statuses, causes) come from
bangfu.vocabulary in Chinese, with the code itself as the English text.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request

from bangfu.vocabulary import FINDING_STATUS_ZH, label_zh

Lang = Literal["zh", "en"]
LANG_COOKIE = "bangfu_lang"

MESSAGES: dict[str, tuple[str, str]] = {
    # frame
    "app_name": ("帮扶平台", "bangfu assistance platform"),
    "skip_to_main": ("跳到正文", "Skip to content"),
    "switch_lang": ("English", "中文"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "logout": ("退出登录", "Sign out"),
    "nav": ("主导航", "Main navigation"),
    "nav_market": ("需求大厅", "Open needs"),
    "nav_claims": ("我的认领", "My claims"),
    "nav_recommended": ("推荐需求", "Recommended"),
    "nav_village": ("农户", "Households"),
    "nav_needs": ("需求", "Needs"),
    "nav_alerts": ("风险预警", "Risk alerts"),
    "nav_dashboard": ("统计看板", "Dashboard"),
    "nav_audit": ("审计记录", "Audit trail"),
    "nav_checks": ("核实任务", "Verification tasks"),
    # login
    "login_title": ("登录", "Sign in"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "required": ("必填", "Required"),
    "login_button": ("登录", "Sign in"),
    "logged_out": ("您已退出登录。", "You have signed out."),
    "session_expired": ("请先登录。", "Please sign in."),
    # errors
    "error_title": ("出错了", "Something went wrong"),
    "error_403": ("无权访问", "Not allowed"),
    "error_404": ("未找到", "Not found"),
    "error_409": ("操作冲突", "Conflict"),
    "error_422": ("输入有误", "Invalid input"),
    "error_429": ("请求过于频繁", "Too many attempts"),
    "error_csrf": (
        "表单已失效（安全校验未通过），请返回重新打开页面后再提交。",
        "The form has expired (security check failed). Go back, reload the page and try again.",
    ),
    "error_503": ("服务暂不可用", "Service unavailable"),
    "back_home": ("返回首页", "Back to the start page"),
    "request_id": ("请求编号", "Request id"),
    "fix_errors": ("请更正标出的字段。", "Please correct the marked fields."),
    # common
    "filter": ("筛选", "Filter"),
    "all": ("全部", "All"),
    "category": ("类别", "Category"),
    "urgency": ("紧急程度", "Urgency"),
    "status": ("状态", "Status"),
    "region_code": ("区划代码", "Region code"),
    "search_text": ("关键词", "Keywords"),
    "sort": ("排序", "Sort"),
    "sort_newest": ("最新", "Newest"),
    "sort_oldest": ("最早", "Oldest"),
    "sort_urgency": ("最紧急", "Most urgent"),
    "sort_amount": ("金额", "Amount"),
    "amount": ("金额（元）", "Amount (yuan)"),
    "village": ("村", "Village"),
    "created_at": ("发布日期", "Published"),
    "details": ("详情", "Details"),
    "none_found": ("没有符合条件的记录。", "Nothing matches."),
    "prev_page": ("上一页", "Previous"),
    "next_page": ("下一页", "Next"),
    "page_n": ("第 {n} 页", "Page {n}"),
    "total_n": ("共 {n} 条", "{n} in all"),
    "note": ("说明", "Note"),
    "reason": ("原因", "Reason"),
    "save": ("保存", "Save"),
    "submit": ("提交", "Submit"),
    "cancel": ("取消", "Cancel"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "done": ("已完成。", "Done."),
    "saved_ok": ("已保存。", "Saved."),
    # market
    "market_title": ("需求大厅", "Open needs"),
    "market_intro": (
        "以下为本机构服务区域内已审核的帮扶需求，均已脱敏。",
        "Verified needs in your organisation's service regions, de-identified.",
    ),
    "need_title": ("需求", "Need"),
    "need_text": ("需求说明", "Description"),
    "pledged": ("已认捐", "Pledged"),
    "remaining": ("尚缺", "Remaining"),
    "holder": ("认领方", "Held by"),
    "taken_by_other": ("该需求已被其他机构认领。", "Another organisation has claimed this need."),
    "held_by_you": ("该需求由本机构认领。", "Your organisation holds this need."),
    "claim_button": ("认领", "Claim"),
    "claimed_ok": ("认领成功。", "Claimed."),
    "pledge_amount": ("认捐金额（元）", "Amount to pledge (yuan)"),
    "pledge_button": ("认捐", "Pledge"),
    "pledged_ok": ("认捐成功。", "Pledged."),
    "release_title": ("放弃认领", "Give the claim back"),
    "release_button": ("放弃认领", "Release"),
    "released_ok": ("已放弃认领，需求重新开放。", "Released; the need is open again."),
    "start_button": ("开始帮扶", "Start work"),
    "progress_note": ("进展说明", "Progress note"),
    "started_ok": ("已记录进展。", "Progress recorded."),
    "fulfil_title": ("报告完成", "Report fulfilment"),
    "fulfil_note": ("完成情况", "What was delivered"),
    "fulfil_amount": ("实际金额（元，可选）", "Amount delivered (yuan, optional)"),
    "evidence": ("证明材料（照片或 PDF，可选）", "Evidence (photo or PDF, optional)"),
    "fulfil_button": ("报告已完成", "Report fulfilled"),
    "fulfilled_ok": ("已报告完成，等待驻村干部确认。", "Reported; the field worker will confirm."),
    "claims_title": ("我的认领", "My claims"),
    "recommended_title": ("推荐需求", "Recommended needs"),
    "recommended_intro": (
        "按匹配程度排序，列出每项的推荐理由。",
        "Ranked by fit, with the reasons for each.",
    ),
    "score": ("匹配分", "Score"),
    "reasons": ("推荐理由", "Reasons"),
    "paired": ("结对帮扶户", "Paired household"),
    "capacity_left": ("剩余承接能力", "Capacity left"),
    "history": ("处理记录", "History"),
    # village
    "village_title": ("本村农户", "Households"),
    "household": ("农户", "Household"),
    "household_id": ("户编号", "Household id"),
    "main_cause": ("主要致贫原因", "Main cause"),
    "size": ("人口", "Members"),
    "address": ("住址", "Address"),
    "phone": ("电话", "Phone"),
    "income_per_capita": ("人均纯收入（元）", "Income per person (yuan)"),
    "housing_safe": ("住房安全", "Safe housing"),
    "water_safe": ("饮水安全", "Safe water"),
    "members": ("家庭成员", "Members"),
    "name": ("姓名", "Name"),
    "relation": ("与户主关系", "Relation"),
    "national_id": ("身份证号", "ID number"),
    "health": ("健康状况", "Health"),
    "needs_of_household": ("本户需求", "Needs of this household"),
    "add_need": ("发布需求", "Add a need"),
    "add_need_title": ("为农户发布需求", "Add a need for a household"),
    "need_added": ("需求已提交，等待审核。", "Need saved; it waits for verification."),
    "title_field": ("标题", "Title"),
    "needs_title": ("需求管理", "Needs"),
    "confirm_button": ("确认已帮扶到位", "Confirm delivered"),
    "confirmed_ok": ("已确认。", "Confirmed."),
    "verify_button": ("审核通过", "Verify"),
    "verified_ok": ("已审核通过，需求已公开。", "Verified; the need is open."),
    "add_household": ("新增农户", "Add a household"),
    "edit_household": ("修改农户信息", "Edit household"),
    "add_member": ("新增家庭成员", "Add a member"),
    "edit_member": ("修改成员信息", "Edit member"),
    "edit": ("修改", "Edit"),
    "village_code": ("所在村区划代码（12位）", "Village code (12 digits)"),
    "income_wage": ("工资性收入（元/年）", "Wages (yuan a year)"),
    "income_farm": ("生产经营性收入-种养（元/年）", "Farming (yuan a year)"),
    "income_business": ("经营性收入（元/年）", "Business (yuan a year)"),
    "income_transfer": ("转移性收入（元/年）", "Transfers (yuan a year)"),
    "income_assets": ("财产性收入（元/年）", "Property income (yuan a year)"),
    "spend_medical": ("医疗支出（元/年）", "Medical costs (yuan a year)"),
    "spend_education": ("教育支出（元/年）", "Schooling costs (yuan a year)"),
    "blank_keeps": ("留空则保持原值：", "Leave blank to keep: "),
    "sex": ("性别", "Sex"),
    "birth_date": ("出生日期", "Date of birth"),
    "disability_grade": ("残疾等级（0为无）", "Disability grade (0: none)"),
    "schooling": ("文化程度", "Schooling"),
    "labour_ability": ("劳动能力", "Labour ability"),
    "employment": ("务工状况", "Employment"),
    "checks_title": ("核查任务", "Verification tasks"),
    "check_title": ("核查任务", "Verification task"),
    "open_tasks": ("待核查", "Open"),
    "rule": ("比对规则", "Rule"),
    "evidence_records": ("部门数据", "Department records"),
    "resolve_title": ("入户核实结果", "Result of the visit"),
    "outcome_confirm": ("属实：按部门数据更正", "Confirmed: correct the record"),
    "outcome_dismiss": ("不属实：档案无误", "Dismissed: the record is right"),
    "resolved_ok": ("已办结。", "Resolved."),
    # risk
    "alerts_title": ("返贫风险预警", "Risk alerts"),
    "alert_title": ("风险预警", "Risk alert"),
    "overdue_only": ("只看逾期", "Overdue only"),
    "explanation": ("预警原因", "Why this household was flagged"),
    "due_at": ("办理期限", "Due"),
    "overdue": ("已逾期", "Overdue"),
    "next_steps": ("下一步", "Next steps"),
    "step_accept": ("受理", "Accept"),
    "step_visit": ("入户核实", "Record the visit"),
    "step_notice": ("村级评议并公示", "Village appraisal and notice"),
    "step_town_review": ("乡镇审核", "Town review"),
    "step_confirm": ("县级审定", "County decision"),
    "step_dismiss": ("排除风险", "Dismiss"),
    "step_record_income": ("登记收入核查", "Record an income check"),
    "step_eliminate": ("风险消除", "Eliminate the risk"),
    "checked_on": ("核查日期", "Checked on"),
    "income_checks": ("收入核查记录", "Income checks"),
    "costs_resolved": ("大额医疗、教育支出问题已解决", "Large medical or schooling costs resolved"),
    "guarantees_resolved": ("“三保障”问题已解决", "Education, medical care and housing assured"),
    "water_resolved": ("饮水安全问题已解决", "Safe drinking water resolved"),
    "findings": ("核实情况", "Findings"),
    "verified_income": ("核实人均收入（元）", "Verified income per person (yuan)"),
    "data_matches": ("部门数据与核实情况一致", "Department data agree with the visit"),
    "appraisal": ("评议意见", "Appraisal"),
    "notice_days": ("公示天数", "Days of notice"),
    "monitor_type": ("监测对象类型", "Monitoring type"),
    "measure": ("帮扶措施（可选，发布为该户的需求）", "A measure (optional, published as a need)"),
    "reviewed_ok": ("已办理。", "Step recorded."),
    # dashboard
    "dashboard_title": ("统计看板", "Dashboard"),
    "households_by_status": ("各地农户（按状态）", "Households by status"),
    "needs_by_status": ("需求办理情况", "Needs by status"),
    "export_excel": ("导出 Excel", "Export to Excel"),
    "alerts_by_status": ("风险预警办理情况", "Risk alerts by step"),
    "count": ("数量", "Count"),
    "region": ("区划", "Region"),
    "villages": ("村数", "Villages"),
    "households": ("户数", "Households"),
    "people": ("人数", "People"),
    "poor": ("未脱贫", "Poor"),
    "exited": ("已脱贫", "Exited"),
    "monitored": ("监测对象", "Monitored"),
    "needs": ("需求", "Needs"),
    "open_needs": ("待认领需求", "Open needs"),
    "fulfilled_needs": ("已完成需求", "Fulfilled needs"),
    "computed_at": ("统计时间", "Computed at"),
    "not_computed": ("尚未统计", "Not computed yet"),
    "drill_down": ("下钻", "Drill down"),
    "up_to": ("返回上级", "Up"),
    # audit
    "audit_title": ("审计记录", "Audit trail"),
    "subject_type": ("对象类型", "Subject type"),
    "subject_id": ("对象编号", "Subject id"),
    "actor_id": ("操作人编号", "Actor id"),
    "since": ("起始时间", "From"),
    "until": ("截止时间", "Until"),
    "at": ("时间", "Time"),
    "action": ("操作", "Action"),
    "actor": ("操作人", "Actor"),
    "outcome": ("结果", "Outcome"),
    "search": ("查询", "Search"),
}


# Chinese labels the vocabulary does not carry, by kind of code (some codes, such as "normal" or
# "confirmed", mean different things for different kinds).
PAGE_LABELS_ZH: dict[str, dict[str, str]] = {
    "urgency": {"low": "一般", "normal": "普通", "high": "紧急", "critical": "非常紧急"},
    "need": {
        "pending_review": "待审核",
        "open": "待认领",
        "claimed": "已认领",
        "in_progress": "帮扶中",
        "fulfilled": "已完成待确认",
        "confirmed": "已确认",
        "closed": "已关闭",
        "cancelled": "已取消",
        "expired": "已过期",
    },
    "role": {
        "official": "各级干部",
        "field_worker": "驻村干部",
        "charity": "慈善机构",
        "womens_federation": "妇联",
        "disabled_federation": "残联",
        "helper_unit": "帮扶单位",
        "auditor": "审计员",
        "admin": "管理员",
    },
    "finding": dict(FINDING_STATUS_ZH),
    "sex": {"male": "男", "female": "女"},
    "relation": {
        "head": "户主",
        "spouse": "配偶",
        "child": "子女",
        "parent": "父母",
        "grandchild": "孙子女",
        "other": "其他",
    },
    "health": {"healthy": "健康", "chronic": "长期慢性病", "serious": "患有大病"},
    "schooling": {
        "none": "文盲或半文盲",
        "primary": "小学",
        "junior": "初中",
        "senior": "高中",
        "college": "大专及以上",
        "preschool": "学龄前",
        "in_school": "在校生",
    },
    "labour": {
        "normal": "普通劳动力",
        "skilled": "技能劳动力",
        "weak": "弱劳动力",
        "none": "无劳动力",
    },
    "employment": {
        "farming": "务农",
        "local_wage": "本地务工",
        "migrant": "外出务工",
        "self_employed": "自主经营",
        "public_welfare_job": "公益性岗位",
        "student": "学生",
        "none": "无",
    },
}


def lang_of(request: Request) -> Lang:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if asked == "en" else "zh"


def translate(lang: Lang, key: str, **values: object) -> str:
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def label(lang: Lang, code: str | None, kind: str | None = None) -> str:
    """A vocabulary code as a reader sees it: the Chinese label, or the code in English.
    `kind` picks the meaning of codes shared by several vocabularies (see PAGE_LABELS_ZH)."""
    if code is None:
        return ""
    if lang == "en":
        return code.replace("_", " ")
    return PAGE_LABELS_ZH.get(kind or "", {}).get(code) or label_zh(code)
