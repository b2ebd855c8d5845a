"""Node labels and relationship types: the only spelling of them anywhere in the code."""

from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    REGION = "Region"
    HOUSEHOLD = "Household"
    PERSON = "Person"
    NEED = "Need"
    HELPER = "Helper"
    CADRE = "Cadre"
    PROJECT = "Project"
    SCHEMA_VERSION = "SchemaVersion"
    NEED_EVENT = "NeedEvent"
    TRANSFER_REQUEST = "TransferRequest"
    IDEMPOTENCY_RECORD = "IdempotencyRecord"
    HELPER_LOCK = "HelperLock"
    JOB = "Job"
    JOB_CHUNK = "JobChunk"
    REGION_STATS = "RegionStats"
    USER = "User"  # a login: role, region or helper, password hash
    AUDIT_EVENT = "AuditEvent"  # append-only, hash-chained trail of changes
    AUDIT_CHAIN = "AuditChain"  # head of the trail; its write lock orders appends
    ASSIGNMENT_PROPOSAL = "AssignmentProposal"  # a global assignment an official may accept
    SHOWN_PAIR = "ShownPair"  # a (need, helper) pair shown as a recommendation, for learning
    RISK_ALERT = "RiskAlert"  # one per household and period, merged on id
    DEPT_RECORD = "DeptRecord"  # one department fact about a person, merged on its key
    IMPORT_FILE = "ImportFile"  # an imported file by content hash: state and outcome
    PROJECT_MILESTONE = "ProjectMilestone"  # a step of a project's implementation, by project_id
    PROJECT_FUND = "ProjectFund"  # a project's money of one source, id "<project>:<source>"
    PROJECT_INCOME = "ProjectIncome"  # income a beneficiary gained from a project in a year
    PROJECT_FLAG = "ProjectFlag"  # a finding of the nightly project checks, by county
    PROJECT_LOCK = "ProjectLock"  # one per project; its write lock serialises the changes
    FINDING = "Finding"  # a cross-check's disagreement, and its verification task (核查任务)
    EXIT_PROPOSAL = "ExitProposal"  # a household's 脱贫退出 or a village's 出列, for review


class Rel(StrEnum):
    PART_OF = "PART_OF"  # (Region)->(Region) child to parent
    IN_VILLAGE = "IN_VILLAGE"  # (Household)->(Region village)
    MEMBER_OF = "MEMBER_OF"  # (Person)->(Household)
    HAS_NEED = "HAS_NEED"  # (Household)->(Need)
    SERVES = "SERVES"  # (Helper)->(Region) service region at any level
    PAIRED_WITH = "PAIRED_WITH"  # (Helper|Cadre)->(Household) 结对帮扶
    STATIONED_IN = "STATIONED_IN"  # (Cadre)->(Region village) 驻村
    FROM_UNIT = "FROM_UNIT"  # (Cadre)->(Helper) the unit that sent the cadre
    CLAIMED = "CLAIMED"  # (Helper)->(Need)
    IN_REGION = "IN_REGION"  # (Project)->(Region)
    BENEFITS = "BENEFITS"  # (Project)->(Household) 带贫益贫
    PLEDGED = "PLEDGED"  # (Helper)->(Need) part of a cash need
    EVENT_OF = "EVENT_OF"  # (NeedEvent)->(Need)
    TRANSFER_OF = "TRANSFER_OF"  # (TransferRequest)->(Need)
    PROPOSES = "PROPOSES"  # (AssignmentProposal)->(Need) {helper_id, score}
    PROPOSAL_FOR = "PROPOSAL_FOR"  # (AssignmentProposal)->(Region)
    ALERT_FOR = "ALERT_FOR"  # (RiskAlert)->(Household)
    ABOUT = "ABOUT"  # (DeptRecord)->(Person) matched by the keyed hash of the ID number
    FINDING_FOR = "FINDING_FOR"  # (Finding)->(Household)
    CITES = "CITES"  # (Finding)->(DeptRecord) the evidence it rests on
    EXIT_OF = "EXIT_OF"  # (ExitProposal)->(Household|Region village)
