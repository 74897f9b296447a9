"""The permission policy: one declarative table of role x module x action.

Views name their ``module`` and the action they perform; they never test roles themselves.
A lookup answers an :class:`Access`: ``ALL`` (any row of the organization), ``OWN`` (rows the
caller created or is assigned to, checked per object by :func:`owns`) or ``NONE``. Anything the
table does not name (an unknown module, action or role) is ``NONE``: the policy fails closed.
"""

from enum import StrEnum


class Access(StrEnum):
    """How far a permission reaches."""

    ALL = "all"
    OWN = "own"
    NONE = "none"


class Role(StrEnum):
    """Membership roles, from most to least powerful; ``client`` is a portal user."""

    ADMIN = "admin"
    MANAGER = "manager"
    WORKER = "worker"
    BASIC = "basic"
    CLIENT = "client"


#: Higher ranks may manage lower ones; nobody grants a rank above their own.
ROLE_RANK = {Role.ADMIN: 4, Role.MANAGER: 3, Role.WORKER: 2, Role.BASIC: 1, Role.CLIENT: 0}

#: Business modules a membership can be granted (admins have all of them).
MODULES = ("tasks", "crm", "finance", "insights", "screening", "support")
#: Modules every member has by role alone (the organization's own people and teams).
BUILTIN_MODULES = ("organization", "teams")

CRUD_ACTIONS = ("view", "create", "change", "delete")

#: The default rules of a business module, by role.
DEFAULT_RULES: dict[str, dict[str, Access]] = {
    Role.ADMIN: {action: Access.ALL for action in CRUD_ACTIONS},
    Role.MANAGER: {action: Access.ALL for action in CRUD_ACTIONS},
    Role.WORKER: {
        "view": Access.ALL,
        "create": Access.ALL,
        "change": Access.OWN,
        "delete": Access.OWN,
    },
    Role.BASIC: {"view": Access.ALL},
    Role.CLIENT: {},
}

#: Per-module rules that differ from the defaults, and the module's named actions.
MODULE_RULES: dict[str, dict[str, dict[str, Access]]] = {
    "organization": {
        Role.ADMIN: {action: Access.ALL for action in (*CRUD_ACTIONS, "administer")},
        Role.MANAGER: {action: Access.ALL for action in CRUD_ACTIONS},
        Role.WORKER: {"view": Access.ALL},
        Role.BASIC: {"view": Access.ALL},
        Role.CLIENT: {},
    },
    # Managers change the teams they created or lead (``Team.owner_fields``); only admins
    # choose a team's lead (organizations.services).
    "teams": {
        Role.ADMIN: {action: Access.ALL for action in CRUD_ACTIONS},
        Role.MANAGER: {
            "view": Access.ALL,
            "create": Access.ALL,
            "change": Access.OWN,
            "delete": Access.OWN,
        },
        Role.WORKER: {"view": Access.ALL},
        Role.BASIC: {"view": Access.ALL},
        Role.CLIENT: {},
    },
}


def module_actions(module: str) -> tuple[str, ...]:
    """Every action the table knows for ``module`` (CRUD plus its named actions)."""
    rules = MODULE_RULES.get(module, DEFAULT_RULES)
    named = {action for role_rules in rules.values() for action in role_rules}
    return tuple(dict.fromkeys([*CRUD_ACTIONS, *sorted(named - set(CRUD_ACTIONS))]))


def has_module(*, role: str, modules: list[str], module: str) -> bool:
    """Whether a membership with ``role`` and granted ``modules`` may use ``module`` at all."""
    if module in BUILTIN_MODULES:
        return True
    if module not in MODULES:
        return False
    return role == Role.ADMIN or module in modules


def decide(*, role: str, modules: list[str], module: str, action: str) -> Access:
    """Look up what ``role`` may do with ``action`` in ``module``; unknown means ``NONE``."""
    if not has_module(role=role, modules=modules, module=module):
        return Access.NONE
    rules = MODULE_RULES.get(module, DEFAULT_RULES)
    return rules.get(role, {}).get(action, Access.NONE)


def owns(obj, user) -> bool:
    """Whether ``user`` created ``obj`` or is assigned to it (its ``owner_fields``)."""
    fields = getattr(type(obj), "owner_fields", ("created_by",))
    return any(getattr(obj, f"{field}_id", None) == user.pk for field in fields)


def permissions_of(*, role: str, modules: list[str]) -> dict[str, dict[str, str]]:
    """What a membership may do in each module, read from the same table."""
    return {
        module: {
            action: decide(role=role, modules=modules, module=module, action=action).value
            for action in module_actions(module)
        }
        for module in (*BUILTIN_MODULES, *MODULES)
    }
