"""provision: create or extend one workbook per commune, idempotently.

The plan is built by pure functions from the registry, the templates and what each workbook
already has; ``--dry-run`` prints it, otherwise it is applied. Applying twice changes nothing,
and nothing staff typed is ever rewritten: existing tabs only gain missing period rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from toolkit.backends.base import (
    Action,
    AddFeedbackTab,
    AddHelpTab,
    AddTab,
    AppendPeriods,
    CreateWorkbook,
    Localize,
    RenameTab,
    Restyle,
    SetVillages,
    WorkbookState,
    clashing,
    vietnamese,
)
from toolkit.errors import SharingRefused, WorkbookBusy, WorkbookError
from toolkit.layout import (
    FEEDBACK_TAB,
    HELP_TAB,
    LISTS_TAB,
    STYLE,
    TabLayout,
    help_lines,
    row_key,
    tab_layout,
)
from toolkit.postal import by_reporters
from toolkit.sharing import plan as sharing_plan
from toolkit.templates import ReportSpec

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CommunePlan:
    code: str
    name: str
    locator: str | None
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class ProvisionResult:
    plans: tuple[CommunePlan, ...]
    applied: bool
    failures: tuple[tuple[str, str], ...]  # (commune, message)
    #: (commune, why) whose workbook was open or saved while provision wrote: left as it was,
    #: for the next provision to complete. Not a failure.
    deferred: tuple[tuple[str, str], ...] = ()

    @property
    def changed(self) -> list[CommunePlan]:
        return [p for p in self.plans if p.actions]


def plan_commune(commune, specs: list[ReportSpec], start, end,
                 state: WorkbookState | None, *, shares: bool = False,
                 own: frozenset[str] = frozenset(),
                 aliases: dict[str, str] | None = None) -> list[Action]:
    """What one commune's workbook needs; empty when it is complete.

    ``shares``: the store shares workbooks with the registry's editors (Google Sheets): they
    are added, and every other access the workbook itself gives is revoked (sharing.py),
    except the toolkit's ``own`` accounts, the owner and Shared Drive members.
    """
    actions: list[Action] = []
    existing = dict(state.tabs) if state else {}
    if state is not None:
        for title, ours in state.renamed.items():
            if title in existing and ours not in existing:
                actions.append(RenameTab(title, ours))
                existing[ours] = existing.pop(title)
        _refuse_clashes(state, existing, specs)
    if state is None:
        actions.append(CreateWorkbook(commune.display_name))
    elif state.locale is not None and not vietnamese(state.locale, state.time_zone):
        actions.append(Localize(state.locale))
    if any(f.choices_from_villages for s in specs for f in s.fields):
        if state is None or tuple(commune.villages) != state.villages:
            actions.append(SetVillages(tuple(commune.villages)))
    outdated = state is not None and state.style is not None and state.style != STYLE
    for spec in specs:
        layout = tab_layout(spec, commune.display_name, start, end, tuple(commune.villages))
        if spec.tab not in existing:
            actions.append(AddTab(layout))
            continue
        if outdated:
            actions.append(Restyle(layout))
        have = set(existing[spec.tab])
        if layout.served and spec.tab in state.row_keys:     # the store says which rows
            actions += _newly_served(layout, have, set(state.row_keys[spec.tab]))
        missing = tuple(k for k in layout.period_keys if k not in have)
        if missing:
            actions.append(AppendPeriods(layout, missing))
    if HELP_TAB not in existing or outdated:
        actions.append(AddHelpTab(tuple(help_lines(specs, commune.display_name))))
    if FEEDBACK_TAB not in existing:
        actions.append(AddFeedbackTab())
    if shares:
        actions += sharing_plan(commune.editors, state.grants if state else (), own, aliases)
    return actions


def _newly_served(layout: TabLayout, periods: set[str], rows: set[str]) -> list[Action]:
    """Rows for the days already on an enterprise's tab of each commune it serves that has
    none there yet (the province moved the commune to it mid-campaign), appended below the
    tab's rows: they are read by the day and commune their cells name, wherever they are."""
    actions: list[Action] = []
    for name in layout.served:
        days = tuple(k for k in layout.period_keys
                     if k in periods and row_key(k, name) not in rows)
        if days:
            actions.append(AppendPeriods(replace(layout, served=(name,)), days))
    return actions


def _refuse_clashes(state: WorkbookState, existing: dict, specs: list[ReportSpec]) -> None:
    """A tab of the commune's whose title differs from one the toolkit must add only in case:
    Google would refuse the whole batch, and taking the tab over would lose what is in it."""
    wanted = [s.tab for s in specs] + [HELP_TAB, FEEDBACK_TAB]
    if any(f.choices_from_villages for s in specs for f in s.fields):
        wanted.append(LISTS_TAB)
    for title in wanted:
        if title in existing:
            continue
        theirs = clashing(existing, title)
        if theirs is not None:
            raise WorkbookError(
                f"bảng tính đã có trang '{theirs}' của xã, trùng tên với trang '{title}' mà "
                "công cụ cần (Google Sheets và Excel không phân biệt chữ hoa, chữ thường "
                f"trong tên trang); hãy đổi tên trang '{theirs}' (ví dụ thành '{theirs} (xã)') "
                "rồi chạy lại `toolkit provision`")


def provision(config, registry, specs: list[ReportSpec], store, ledger, *, now: datetime,
              dry_run: bool = False, progress: Progress | None = None) -> ProvisionResult:
    known = ledger.workbooks()
    plans: list[CommunePlan] = []
    failures: list[tuple[str, str]] = []
    own = store.own_accounts() if store.shares_with_editors else frozenset()
    deferred: list[tuple[str, str]] = []
    aliases = ledger.email_aliases()
    # Communes get the commune templates, postal enterprises theirs (toolkit.postal).
    reporters = [(c, chosen) for who, chosen in by_reporters(registry, specs)
                 for c in who.communes]
    for commune, chosen in reporters:
        record = known.get(commune.code)
        try:
            locator = store.find(commune.code, record.locator if record else None)
            state = store.inspect(locator) if locator else None
            actions = plan_commune(commune, chosen, config.campaign_start, config.campaign_end,
                                   state, shares=store.shares_with_editors, own=own,
                                   aliases=aliases)
            if actions and not dry_run:
                locator = store.apply(locator, commune.code, actions, now)
            if locator and not dry_run:
                ledger.remember_workbook(commune.code, locator, store.kind, now,
                                         locale=store.locale(locator))
        except WorkbookBusy as exc:
            deferred.append((commune.display_name, str(exc)))
            continue
        except WorkbookError as exc:
            if isinstance(exc, SharingRefused):     # the workbook is made: keep it, not a twin
                ledger.remember_workbook(commune.code, exc.locator, store.kind, now,
                                         locale=store.locale(exc.locator))
            failures.append((commune.display_name, f"{commune.display_name}: {exc}"))
            continue
        plans.append(CommunePlan(commune.code, commune.display_name, locator, tuple(actions)))
        if progress:
            progress(commune.display_name)
    for address, account in store.learned_aliases().items():
        ledger.remember_alias(address, account, now)     # not shared again next time
    return ProvisionResult(tuple(plans), not dry_run, tuple(failures), tuple(deferred))
