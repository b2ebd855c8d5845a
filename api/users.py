"""Creating and managing logins, and the demo logins of a seeded graph.

A login is bound to what its role acts for: officials to a region at any level, field workers to
a town or village, charities, federations and helper units to an existing Helper of a matching
kind (api/policy.py), auditors and admins to nothing. Every change is audited.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, SecretStr

from api.audit import AuditTrail
from api.auth import check_password_rules, hash_password, normalise_username, verify_password
from api.policy import Action, helper_kind_fits, helper_kinds_zh, region_level_fits, role_zh
from bangfu.access import Role
from bangfu.errors import ConfigurationError, ConflictError, InvalidInputError, NotFoundError
from bangfu.settings import Environment
from bangfu.vocabulary import HelperKind, label_zh
from graph.client import GraphClient
from graph.models import User
from graph.repositories.helpers import HelperRepository
from graph.repositories.regions import RegionRepository
from graph.repositories.users import UserRepository

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,39}$")
DEFAULT_DEMO_PASSWORD = "bangfu-demo-2026"  # noqa: S105 - documented demo default, development only

# One demo login per role, and (for helper roles) the Helper kinds tried in order.
DEMO_USERNAMES: dict[Role, str] = {role: f"demo-{role.value.replace('_', '-')}" for role in Role}
_DEMO_HELPER_KINDS: dict[Role, tuple[HelperKind, ...]] = {
    Role.CHARITY: (HelperKind.CHARITY,),
    Role.WOMENS_FEDERATION: (HelperKind.WOMENS_FEDERATION,),
    Role.DISABLED_FEDERATION: (HelperKind.DISABLED_FEDERATION,),
    Role.HELPER_UNIT: (HelperKind.HELPER_UNIT, HelperKind.ENTERPRISE),
}


class UserView(BaseModel):
    """A user as shown to people and written to the audit trail: no password hash."""

    id: str
    username: str
    role: Role
    region_code: str | None
    helper_id: str | None
    active: bool

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls.model_validate(user.model_dump(exclude={"password_hash", "created_at"}))


class DemoLogin(BaseModel):
    role: Role
    username: str
    password: SecretStr
    binding: str  # region or helper the login acts for, "-" for auditor and admin
    created: bool


def demo_password(from_env: str | None, env: Environment) -> SecretStr:
    """BANGFU_DEMO_PASSWORD, or the documented default in development only."""
    if from_env:
        password = SecretStr(from_env)
    elif env is Environment.DEVELOPMENT:
        password = SecretStr(DEFAULT_DEMO_PASSWORD)
    else:
        raise ConfigurationError(
            "set BANGFU_DEMO_PASSWORD: the default demo password is for development only",
            message_zh="请设置 BANGFU_DEMO_PASSWORD：默认演示密码仅限开发环境",
        )
    check_password_rules(password)
    return password


class UserService:
    def __init__(self, graph: GraphClient, trail: AuditTrail) -> None:
        self.users = UserRepository(graph)
        self.regions = RegionRepository(graph)
        self.helpers = HelperRepository(graph)
        self.trail = trail

    def _authorize(self, subject_id: str | None) -> None:
        # Signed-in callers need manage_users; system actors (the CLI) are trusted operators.
        if self.trail.principal is not None:
            self.trail.authorize(Action.MANAGE_USERS, "user", subject_id)

    def create(
        self,
        username: str,
        password: SecretStr,
        role: Role,
        region_code: str | None = None,
        helper_id: str | None = None,
    ) -> User:
        self._authorize(None)
        name = normalise_username(username)
        if not USERNAME.match(name):
            raise InvalidInputError(
                "username must be 3-40 characters: letters, digits, '.', '_' or '-', starting "
                "with a letter or digit",
                message_zh="用户名须为 3-40 个字符（字母、数字、点、下划线或连字符），"
                "以字母或数字开头",
            )
        check_password_rules(password)
        self._check_binding(role, region_code, helper_id)
        if self.users.by_username(name) is not None:
            raise ConflictError(f"username {name} is taken", message_zh=f"用户名 {name} 已被占用")
        user = User(
            id=uuid.uuid4().hex,
            username=name,
            password_hash=hash_password(password),
            role=role,
            region_code=region_code,
            helper_id=helper_id,
            active=True,
            created_at=datetime.now(UTC),
        )
        created = self.users.create(user)
        self.trail.record("create_user", "user", created.id, after=UserView.of(created))
        return created

    def set_active(self, user_id: str, active: bool) -> User:
        self._authorize(user_id)
        before = self.users.get(user_id)
        after = self.users.set_active(user_id, active)
        self.trail.record(
            "activate_user" if active else "deactivate_user",
            "user",
            user_id,
            before=UserView.of(before),
            after=UserView.of(after),
        )
        return after

    def _check_binding(self, role: Role, region_code: str | None, helper_id: str | None) -> None:
        if role.is_regional:
            if helper_id is not None or region_code is None:
                raise InvalidInputError(
                    f"a {role.value} login needs a region (--region) and no helper",
                    message_zh=f"{role_zh(role)}账号须指定区划且不能绑定帮扶主体",
                )
            try:
                region = self.regions.get(region_code)
            except NotFoundError:
                raise InvalidInputError(
                    f"region {region_code} does not exist", message_zh=f"区划 {region_code} 不存在"
                ) from None
            if not region_level_fits(role, region.level):
                raise InvalidInputError(
                    f"a {role.value} login must be bound to a town or village, not a "
                    f"{region.level.value}",
                    message_zh=f"{role_zh(role)}账号只能绑定到镇或村，不能绑定到{label_zh(region.level.value)}",
                )
        elif role.is_helper:
            if region_code is not None or helper_id is None:
                raise InvalidInputError(
                    f"a {role.value} login needs a helper (--helper-id) and no region",
                    message_zh=f"{role_zh(role)}账号须绑定帮扶主体且不能指定区划",
                )
            try:
                helper = self.helpers.get(helper_id)
            except NotFoundError:
                raise InvalidInputError(
                    f"helper {helper_id} does not exist", message_zh=f"帮扶主体 {helper_id} 不存在"
                ) from None
            if not helper_kind_fits(role, helper.kind):
                raise InvalidInputError(
                    f"a {role.value} login cannot act for a helper of kind {helper.kind.value}",
                    message_zh=f"{role_zh(role)}账号只能绑定{helper_kinds_zh(role)}类帮扶主体",
                )
        elif region_code is not None or helper_id is not None:
            raise InvalidInputError(
                f"a {role.value} login has neither a region nor a helper",
                message_zh=f"{role_zh(role)}账号不绑定区划或帮扶主体",
            )

    def ensure_demo_logins(self, password: SecretStr) -> list[DemoLogin]:
        """One login per role bound to the seeded graph; running it again changes nothing (a
        demo login whose password no longer matches gets `password` back)."""
        bindings = self._demo_bindings()
        logins: list[DemoLogin] = []
        for role in Role:
            region_code, helper_id = bindings[role]
            username = DEMO_USERNAMES[role]
            existing = self.users.by_username(username)
            if existing is None:
                user = self.create(username, password, role, region_code, helper_id)
            elif existing.role is not role:
                raise ConflictError(
                    f"username {username} exists with role {existing.role.value}",
                    message_zh=f"用户名 {username} 已被{role_zh(existing.role)}账号占用",
                )
            else:
                # An existing demo login keeps its binding; the table shows what is stored.
                user = existing
                if not verify_password(existing.password_hash, password.get_secret_value()):
                    self.users.set_password_hash(existing.id, hash_password(password))
                    self.trail.record("reset_password", "user", existing.id)
            logins.append(
                DemoLogin(
                    role=role,
                    username=username,
                    password=password,
                    binding=user.region_code or user.helper_id or "-",
                    created=existing is None,
                )
            )
        return logins

    def _demo_bindings(self) -> dict[Role, tuple[str | None, str | None]]:
        county = self.users.first_county()
        village = self.users.first_village_in(county) if county else None
        if county is None or village is None:
            raise InvalidInputError(
                "the graph has no county with villages: run `bangfu seed` first",
                message_zh="图中没有区县和村：请先运行 `bangfu seed`",
            )
        bindings: dict[Role, tuple[str | None, str | None]] = {
            Role.OFFICIAL: (county, None),
            Role.FIELD_WORKER: (village, None),
            Role.AUDITOR: (None, None),
            Role.ADMIN: (None, None),
        }
        for role, kinds in _DEMO_HELPER_KINDS.items():
            helper_id = self.users.helper_for_county(kinds, county)
            if helper_id is None:
                raise InvalidInputError(
                    f"the graph has no helper for the {role.value} demo login: run `bangfu seed`",
                    message_zh=f"图中没有可供{role_zh(role)}演示账号绑定的帮扶主体："
                    "请先运行 `bangfu seed`",
                )
            bindings[role] = (None, helper_id)
        return bindings
