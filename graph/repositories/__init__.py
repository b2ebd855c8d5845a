"""One repository per aggregate, with domain-named methods returning pydantic models."""

from graph.repositories.audit import AuditRepository
from graph.repositories.cadres import CadreRepository
from graph.repositories.dept_records import DeptRecordRepository
from graph.repositories.helpers import HelperRepository
from graph.repositories.households import HouseholdRepository
from graph.repositories.imports import ImportRepository
from graph.repositories.matching import MatchingRepository
from graph.repositories.needs import NeedRepository
from graph.repositories.pairings import PairingRepository
from graph.repositories.persons import PersonRepository
from graph.repositories.projects import ProjectRepository
from graph.repositories.regions import RegionRepository
from graph.repositories.risk import RiskRepository
from graph.repositories.users import UserRepository

__all__ = [
    "AuditRepository",
    "CadreRepository",
    "DeptRecordRepository",
    "HelperRepository",
    "HouseholdRepository",
    "ImportRepository",
    "MatchingRepository",
    "NeedRepository",
    "PairingRepository",
    "PersonRepository",
    "ProjectRepository",
    "RegionRepository",
    "RiskRepository",
    "UserRepository",
]
