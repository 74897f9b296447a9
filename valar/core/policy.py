"""The permission policy: one declarative table of role x module x action.

Views name their ``module`` and the action they perform; they never test roles themselves.
A lookup answers an :class:`Access`: ``ALL`` (any row of the organization), ``OWN`` (rows the
caller created or is assigned to) or ``NONE``. Anything the table does not name (an unknown
module, action or role) is ``NONE``: the policy fails closed.

``OWN`` for ``view`` narrows what the caller reads, as a queryset filter (:func:`visible_rows`,
applied by ``TenantViewSet.get_queryset`` and ``TenantRelatedField``) and as a restriction of
every figure the metrics engine computes for them; ``OWN`` for a write is checked per object by
:func:`owns`.
"""

from enum import StrEnum

from django.db.models import Q, QuerySet


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
#: Modules every member has by role alone (the organization's own people and teams, their own
#: notifications and jobs, its alert rules, and the customer portal, which only clients use).
BUILTIN_MODULES = ("organization", "teams", "notifications", "alerts", "jobs", "portal")

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
    # Everyone reads and marks read only their own notifications (``owner_fields`` is the
    # recipient); only admins send them to other members.
    "notifications": {
        Role.ADMIN: {"view": Access.OWN, "change": Access.OWN, "send": Access.ALL},
        Role.MANAGER: {"view": Access.OWN, "change": Access.OWN},
        Role.WORKER: {"view": Access.OWN, "change": Access.OWN},
        Role.BASIC: {"view": Access.OWN, "change": Access.OWN},
        Role.CLIENT: {"view": Access.OWN, "change": Access.OWN},
    },
    # Alert rules (ops/alerts/) watch organization-wide figures: admins and managers manage
    # them (``check`` evaluates one now); nobody else sees them. A rule's source also needs its
    # module (alerts.selectors.watchable_sources).
    "alerts": {
        Role.ADMIN: {action: Access.ALL for action in (*CRUD_ACTIONS, "check")},
        Role.MANAGER: {action: Access.ALL for action in (*CRUD_ACTIONS, "check")},
        Role.WORKER: {},
        Role.BASIC: {},
        Role.CLIENT: {},
    },
    # Background jobs (jobs/): admins and managers see and cancel every job of the
    # organization; workers and basic members the jobs they started; portal clients none.
    # Jobs are started by the endpoints of the feature that runs them, never created here.
    "jobs": {
        Role.ADMIN: {"view": Access.ALL, "change": Access.ALL},
        Role.MANAGER: {"view": Access.ALL, "change": Access.ALL},
        Role.WORKER: {"view": Access.OWN, "change": Access.OWN},
        Role.BASIC: {"view": Access.OWN, "change": Access.OWN},
        Role.CLIENT: {},
    },
    # The customer portal (portal/, seed 003): only ``client`` members use it, and read only
    # their own customer's issued documents and payments (portal.selectors); they answer the
    # quotes sent to it (``respond``). Everyone else works in the business modules instead.
    "portal": {
        Role.ADMIN: {},
        Role.MANAGER: {},
        Role.WORKER: {},
        Role.BASIC: {},
        Role.CLIENT: {"view": Access.ALL, "respond": Access.ALL},
    },
    # Support chats (seed 001): agents (worker and above with the module) see and work every
    # chat of the organization; basic members and portal clients open chats and see, write in
    # and close their own (``Chat.owner_fields``). Only admins delete chats.
    "support": {
        Role.ADMIN: {action: Access.ALL for action in (*CRUD_ACTIONS, "assign")},
        Role.MANAGER: {
            "view": Access.ALL,
            "create": Access.ALL,
            "change": Access.ALL,
            "assign": Access.ALL,
        },
        Role.WORKER: {
            "view": Access.ALL,
            "create": Access.ALL,
            "change": Access.ALL,
            "assign": Access.ALL,
        },
        Role.BASIC: {"view": Access.OWN, "create": Access.ALL, "change": Access.OWN},
        Role.CLIENT: {"view": Access.OWN, "create": Access.ALL, "change": Access.OWN},
    },
    # Watch-list screening (seed 004): compliance data, not for basic members or clients.
    # Workers read lists, entries and matches and screen (``screen``: ad hoc or batch runs);
    # managers also upload lists and run their ETL (``create``, ``change``, ``process``) and
    # review matches (``review``: confirm a hit or dismiss a false positive); only admins
    # delete lists and add, change or delete entries by hand and set the scores
    # (``configure``).
    "screening": {
        Role.ADMIN: {
            action: Access.ALL
            for action in (*CRUD_ACTIONS, "process", "screen", "review", "configure")
        },
        Role.MANAGER: {
            action: Access.ALL
            for action in ("view", "create", "change", "process", "screen", "review")
        },
        Role.WORKER: {"view": Access.ALL, "screen": Access.ALL},
        Role.BASIC: {},
        Role.CLIENT: {},
    },
    # Seeds 001 and 002: people see their own income and expenses. Workers and basic members
    # read only the entries they own (and those entries' attachments, and figures computed
    # from them); the organization's categories are shared reference data everyone sees.
    # ``claim`` writes expense claims: every write of ``expenses/`` (create, change, delete,
    # bulk, import) and a receipt's upload; ``own`` reaches only one's own claims. ``create``,
    # ``change`` and ``delete`` are every other finance write (income, categories,
    # ``transactions/``). So basic members record, correct and withdraw their own expense
    # claims but never record income. A claim of a member without ``approve`` is
    # ``submitted`` until a manager or admin approves or rejects it (finance.services);
    # theirs are approved on entry. ``approve`` also sets up, changes, deletes and runs
    # recurring schedules: what they make is approved and issued with nobody watching.
    "finance": {
        Role.ADMIN: {action: Access.ALL for action in (*CRUD_ACTIONS, "claim", "approve")},
        Role.MANAGER: {action: Access.ALL for action in (*CRUD_ACTIONS, "claim", "approve")},
        Role.WORKER: {
            "view": Access.OWN,
            "create": Access.ALL,
            "change": Access.OWN,
            "delete": Access.OWN,
            "claim": Access.OWN,
        },
        Role.BASIC: {"view": Access.OWN, "claim": Access.OWN},
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


def _owner_fields(model) -> tuple[str, ...]:
    """The user foreign keys (paths allowed: ``entry__created_by``) that make an owner."""
    return tuple(getattr(model, "owner_fields", ("created_by",)))


def owns(obj, user) -> bool:
    """Whether ``user`` created ``obj`` or is assigned to it (its ``owner_fields``)."""
    for field in _owner_fields(type(obj)):
        *path, last = field.split("__")
        target = obj
        for step in path:
            target = getattr(target, step, None)
        if target is not None and getattr(target, f"{last}_id", None) == user.pk:
            return True
    return False


def owner_filter(model, user_id, *, prefix: str = "") -> Q:
    """The rows of ``model`` that the user ``user_id`` owns, as a filter (never all rows).

    ``prefix`` is the path to ``model`` when filtering from another model (``entries__``).
    """
    condition = Q(pk__in=[]) if not prefix else Q(**{f"{prefix}pk__in": []})
    for field in _owner_fields(model):
        condition |= Q(**{f"{prefix}{field}_id": user_id})
    return condition


def view_access(*, membership, module: str) -> Access:
    """How far ``membership`` may read in ``module`` (its ``view`` rule)."""
    return decide(role=membership.role, modules=membership.modules, module=module, action="view")


def visible_rows(queryset: QuerySet, *, membership, module: str) -> QuerySet:
    """``queryset`` narrowed to what ``membership`` may read in ``module``.

    ``ALL`` keeps every row, ``NONE`` keeps none, ``OWN`` keeps the rows the member owns by
    the model's ``owner_fields``, unless the model is shared reference data
    (``shared_reference``: categories every member of the module needs).
    """
    access = view_access(membership=membership, module=module)
    if access == Access.ALL:
        return queryset
    if access == Access.NONE:
        return queryset.none()
    if getattr(queryset.model, "shared_reference", False):
        return queryset
    return queryset.filter(owner_filter(queryset.model, membership.user_id))


def permissions_of(*, role: str, modules: list[str]) -> dict[str, dict[str, str]]:
    """What a membership may do in each module, read from the same table."""
    return {
        module: {
            action: decide(role=role, modules=modules, module=module, action=action).value
            for action in module_actions(module)
        }
        for module in (*BUILTIN_MODULES, *MODULES)
    }
