"""What every beheer route needs: the configuration (:class:`WebConfig`), the acting user
(:class:`Who`) and :class:`Beheer`, the helpers bound to one configuration (database
sessions, the logged-in user, login with throttling, the API's actor, a target as JSON)."""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import Request
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from .. import accounts, db, public, sessions, targets, throttle
from ..models import Target, User, utcnow
from ..permissions import ROLE_ADMIN, ROLE_EDITOR, ROLE_PROGRAMME
from ..resolvers import (AreaResolver, CodesProvider, IndicatorResolver, default_area_resolver,
                         default_codes_provider, default_indicator_resolver)
from .cookies import web_session
from .guard import LoginRequired, Refused, basic_credentials, challenge
from .options import indicator_names
from .rendering import ROLE_LABELS, nl

log = logging.getLogger(__name__)

LOCKED_MESSAGE = ("Te veel mislukte inlogpogingen. Inloggen is tijdelijk geblokkeerd: probeer "
                  "het over {wait} seconden opnieuw.")


@dataclass
class WebConfig:
    """What the router talks to (defaults: the configured database, areas and catalogue)."""

    database_url: str | None = None
    area_resolver: AreaResolver = default_area_resolver
    indicator_resolver: IndicatorResolver = default_indicator_resolver
    codes_provider: CodesProvider = default_codes_provider
    #: ``target -> Series year -> value`` for progress (default: the analytical store).
    observed: Callable[[Target], Any] = field(default=public.store_observed)
    #: The clock of sessions and login throttling (aware UTC datetimes; tests inject one).
    clock: Callable[[], dt.datetime] = utcnow


@dataclass(frozen=True)
class Who:
    """The acting user, detached from any database session (satisfies the services' Actor)."""

    id: int | None
    name: str
    role: str
    gemeente: str | None

    @classmethod
    def of(cls, user: User) -> "Who":
        return cls(user.id, user.name, user.role, user.gemeente)

    @property
    def role_label(self) -> str:
        label = ROLE_LABELS.get(self.role, self.role)
        return f"{label} {self.gemeente}" if self.gemeente else label

    @property
    def may_edit(self) -> bool:
        return self.role in (ROLE_EDITOR, ROLE_PROGRAMME, ROLE_ADMIN)


class Beheer:
    """The helpers of the routes, bound to one :class:`WebConfig`."""

    def __init__(self, cfg: WebConfig):
        self.cfg = cfg
        #: keyword arguments every service call gets (the injected resolvers)
        self.svc = dict(area_resolver=cfg.area_resolver,
                        indicator_resolver=cfg.indicator_resolver)

    def session(self) -> Session:
        return db.session_factory(self.cfg.database_url)()

    def tx(self):
        return db.session_scope(self.cfg.database_url)

    def current(self, request: Request) -> Who | None:
        """The logged-in user of the session in the cookie (looked up in ``user_sessions``
        on every request: an ended or expired session is no login)."""
        if hasattr(request.state, "wm_who"):
            return request.state.wm_who
        sess = web_session(request)
        who = None
        if sess.data.get("a"):
            with self.tx() as s:
                user = sessions.lookup(s, sess.token, self.cfg.clock())
                who = Who.of(user) if user is not None else None
            if who is None:
                sess.forget_login()
        request.state.wm_who = who
        return who

    def client_address(self, request: Request) -> str:
        return request.client.host if request.client else "onbekend"

    def check_login(self, request: Request, name: str, password: str) -> User | None:
        """The user if the name and password are right and neither the name nor the client
        address is locked; ``None`` for a wrong name or password (counted); :class:`Refused`
        (429) while locked, for existing and unknown names alike."""
        now, address = self.cfg.clock(), self.client_address(request)
        with self.tx() as s:
            until = throttle.locked_until(s, name, address, now)
        if until is not None:
            wait = max(1, math.ceil((until - now).total_seconds()))
            log.warning("login refused while locked: %r from %s", name[:100], address)
            raise Refused(429, LOCKED_MESSAGE.format(wait=nl(wait)),
                          {"Retry-After": str(wait)})
        with self.tx() as s:
            user = accounts.authenticate(s, name, password)
            if user is not None:
                throttle.success(s, name)
                return user
        log.warning("failed login for %r from %s", name[:100], address)
        for attempt in range(2):  # two workers may insert the same counter at once
            try:
                with self.tx() as s:
                    throttle.failure(s, name, address, now)
                break
            except sa_exc.IntegrityError:
                if attempt:
                    raise
        return None

    def login_required(self, request: Request) -> Who:
        who = self.current(request)
        if who is None:
            raise LoginRequired()
        return who

    def api_actor(self, request: Request) -> Who:
        creds = basic_credentials(request)
        if creds is not None:
            user = self.check_login(request, *creds)
            if user is None:
                raise Refused(401, "onjuiste gebruikersnaam of wachtwoord", challenge())
            return Who.of(user)
        who = self.current(request)
        if who is None:
            raise Refused(401, "inloggen vereist: log in via /beheer/inloggen (cookie en "
                               "X-CSRF-Token) of gebruik HTTP Basic", challenge())
        return who

    def target_json(self, t: Target) -> dict:
        item = t.to_dict()
        item["indicator_name"] = indicator_names().get(t.indicator_id, t.indicator_id)
        prog = targets.target_progress(t, self.cfg.observed(t)).as_dict()
        prog["observed_source"] = public.OBSERVED_SOURCE if prog["latest_year"] else None
        item["progress"] = prog
        return item
