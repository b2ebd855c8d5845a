"""The project's exceptions: one root, one subclass per meaning.

api/ maps each class to an HTTP status in one table; the CLI prints the message. Messages are
safe to show to a user: they never carry ID numbers, phones or driver internals.
"""

from __future__ import annotations


class BangfuError(Exception):
    """Root of every error bangfu raises on purpose."""

    code = "error"
    message_zh = "出错了"

    def __init__(self, message: str, *, message_zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if message_zh is not None:
            self.message_zh = message_zh


class NotFoundError(BangfuError):
    code = "not_found"
    message_zh = "未找到"


class ConflictError(BangfuError):
    code = "conflict"
    message_zh = "状态冲突"


class InvalidInputError(BangfuError):
    code = "invalid_input"
    message_zh = "输入无效"


class PermissionDeniedError(BangfuError):
    code = "forbidden"
    message_zh = "无权操作"


class AuthenticationError(BangfuError):
    code = "unauthenticated"
    message_zh = "未登录或登录已过期"


class GraphUnavailableError(BangfuError):
    """Neo4j cannot be reached (down, wrong address or wrong password)."""

    code = "graph_unavailable"
    message_zh = "图数据库不可用"


class GraphBusyError(BangfuError):
    """A transient database condition (deadlock, lock timeout) that a retry usually clears."""

    code = "graph_busy"
    message_zh = "数据库繁忙，请稍后重试"


class GraphTimeoutError(BangfuError):
    code = "graph_timeout"
    message_zh = "数据库操作超时"


class ConfigurationError(BangfuError):
    code = "configuration"
    message_zh = "配置错误"


class RateLimitedError(BangfuError):
    """Too many attempts; `retry_after_s` tells the caller when to try again."""

    code = "rate_limited"
    message_zh = "尝试次数过多，请稍后再试"

    def __init__(self, message: str, *, retry_after_s: int, message_zh: str | None = None) -> None:
        super().__init__(message, message_zh=message_zh)
        self.retry_after_s = max(1, retry_after_s)


class PayloadTooLargeError(BangfuError):
    code = "payload_too_large"
    message_zh = "请求内容过大"


class ServiceUnavailableError(BangfuError):
    """A service other than Neo4j (e.g. Redis for login throttling) cannot be reached."""

    code = "service_unavailable"
    message_zh = "服务暂不可用"


class CsrfError(PermissionDeniedError):
    """A web form came back without the token of the session that rendered it (a forged
    cross-site request, or a page left open past the session)."""

    code = "csrf_failed"
    message_zh = "表单已失效（安全校验未通过），请重新打开页面后再提交"
