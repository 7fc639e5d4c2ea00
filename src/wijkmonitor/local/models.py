"""SQLAlchemy 2 models of the editable store.

Tables (created by the Alembic migrations in ``migrations/versions``; the models and the
migrations must agree, a test checks that):

``users``
    Accounts with a role (see :mod:`wijkmonitor.local.permissions`) and an argon2 hash.
``targets`` / ``target_milestones``
    Streefwaarden: one per area x indicator, with target year and value, an optional baseline,
    optional intermediate milestones, polarity, who set it and why.
``interventions`` (+ ``intervention_areas``, ``intervention_indicators``,
``intervention_links``)
    The registry of interventions in the focus areas (NPLV §6.2, qualitative monitoring).
``local_uploads`` / ``local_values``
    Indicator values a gemeente uploads itself. They are kept apart from CBS values (which live
    in the analytical DuckDB store): every local value points at its upload, which names its
    source, so it is always shown with that source.
``user_sessions``
    Server-side login sessions: the cookie carries a random id, the table its SHA-256 hash,
    the user and when the session started and was last used (see :mod:`.sessions`).
``login_throttle``
    Failed-login counters and temporary locks per account name and per client address
    (see :mod:`.throttle`).
``audit_log``
    Append-only record of every change (who, when, action, entity, before, after). No service
    updates or deletes it; database triggers (PostgreSQL and SQLite) refuse UPDATE and DELETE.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (JSON, BigInteger, CheckConstraint, Date, DateTime, Float, ForeignKey, Integer,
                        MetaData, Numeric, String, Text, UniqueConstraint, event, func)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

POLARITIES = ("higher_is_better", "lower_is_better")
INTERVENTION_STATUSES = ("gepland", "lopend", "afgerond", "gestopt")
LOCAL_VALUE_STATUSES = ("ok", "geheim")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    #: Columns left out of :meth:`to_dict` (and so out of the audit log).
    _private: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view of the row's own columns (used for the audit log and the API)."""
        return {c.key: _jsonable(getattr(self, c.key)) for c in self.__table__.columns
                if c.key not in self._private}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('public', 'gemeente-editor', 'programme', 'admin')",
                        name="role"),
        CheckConstraint("(role = 'gemeente-editor') = (gemeente IS NOT NULL)",
                        name="editor_gemeente"),
    )
    _private = ("password_hash",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    gemeente: Mapped[str | None] = mapped_column(String(6))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("area_id", "indicator_id", name="uq_targets_area_indicator"),
        CheckConstraint("polarity IN ('higher_is_better', 'lower_is_better')", name="polarity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[str] = mapped_column(String(100), index=True)
    area_name: Mapped[str] = mapped_column(String(200))
    #: Owning gemeente (``GMxxxx``); NULL for areas spanning several gemeenten.
    gemeente: Mapped[str | None] = mapped_column(String(6), index=True)
    indicator_id: Mapped[str] = mapped_column(String(100))
    target_value: Mapped[float] = mapped_column(Float)
    target_year: Mapped[int] = mapped_column(Integer)
    baseline_year: Mapped[int | None] = mapped_column(Integer)
    baseline_value: Mapped[float | None] = mapped_column(Float)
    polarity: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    onupdate=utcnow)

    milestones: Mapped[list["Milestone"]] = relationship(
        back_populates="target", cascade="all, delete-orphan", order_by="Milestone.year",
        lazy="selectin")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["milestones"] = [{"year": m.year, "value": m.value} for m in self.milestones]
        return out


class Milestone(Base):
    __tablename__ = "target_milestones"
    __table_args__ = (UniqueConstraint("target_id", "year", name="uq_target_milestones_target_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)

    target: Mapped[Target] = relationship(back_populates="milestones")


class Intervention(Base):
    __tablename__ = "interventions"
    __table_args__ = (
        CheckConstraint("status IN ('gepland', 'lopend', 'afgerond', 'gestopt')", name="status"),
        CheckConstraint("budget_eur IS NULL OR budget_eur >= 0", name="budget"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    actielijn: Mapped[str] = mapped_column(String(200), index=True, default="")
    theme: Mapped[str] = mapped_column(String(200), default="")
    #: Kind of responsible organisation: ministerie, gemeente, corporatie, ...
    organisation_type: Mapped[str] = mapped_column(String(50), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    #: Owning gemeente (from its areas); NULL when the areas span several gemeenten.
    gemeente: Mapped[str | None] = mapped_column(String(6), index=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="gepland")
    budget_eur: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    onupdate=utcnow)

    areas: Mapped[list["InterventionArea"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="InterventionArea.area_id")
    indicators: Mapped[list["InterventionIndicator"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin",
        order_by="InterventionIndicator.indicator_id")
    links: Mapped[list["InterventionLink"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="InterventionLink.id")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["areas"] = [{"id": a.area_id, "name": a.area_name, "gemeente": a.gemeente}
                        for a in self.areas]
        out["indicators"] = [i.indicator_id for i in self.indicators]
        out["evaluation_links"] = [{"url": link.url, "label": link.label} for link in self.links]
        return out


class InterventionArea(Base):
    __tablename__ = "intervention_areas"
    __table_args__ = (UniqueConstraint("intervention_id", "area_id", name="uq_intervention_areas_area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[str] = mapped_column(String(100), index=True)
    area_name: Mapped[str] = mapped_column(String(200))
    gemeente: Mapped[str | None] = mapped_column(String(6))


class InterventionIndicator(Base):
    __tablename__ = "intervention_indicators"
    __table_args__ = (UniqueConstraint("intervention_id", "indicator_id", name="uq_intervention_indicators_indicator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[str] = mapped_column(String(100))


class InterventionLink(Base):
    __tablename__ = "intervention_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    label: Mapped[str] = mapped_column(String(300), default="")


class LocalUpload(Base):
    __tablename__ = "local_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gemeente: Mapped[str] = mapped_column(String(6), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    #: Where the numbers come from, shown next to every value (e.g. "Gemeente Utrecht, OIS").
    source: Mapped[str] = mapped_column(String(300))
    n_values: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_by_name: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LocalValue(Base):
    __tablename__ = "local_values"
    __table_args__ = (
        UniqueConstraint("upload_id", "region", "indicator_id", "year", name="uq_local_values_key"),
        CheckConstraint("status IN ('ok', 'geheim')", name="status"),
        CheckConstraint("(status = 'ok') = (value IS NOT NULL)", name="value_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("local_uploads.id", ondelete="CASCADE"),
                                           index=True)
    gemeente: Mapped[str] = mapped_column(String(6), index=True)
    #: CBS region code (``WK034403``, ``BU0363AA02``) or area id of the gemeente.
    region: Mapped[str] = mapped_column(String(100))
    indicator_id: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), default="ok")


class UserSession(Base):
    """A login session. ``id`` is the SHA-256 hex digest of the random token in the cookie, so
    the table alone does not let anyone take over a session."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Consecutive failed logins for one key (``konto:<sha256 of the name>`` or
    ``adres:<client address>``) and the lock they caused."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: No foreign key: the log outlives accounts.
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(50), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class ContentRevision(Base):
    """One row whose ``revision`` the database raises on every write to the tables the public
    area page shows (triggers of migration 0003; never written by the application): the site
    keeps that page section per area and revision."""

    __tablename__ = "content_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, flush_context, instances) -> None:
    """Refuse, in the application too, any change to an existing audit row."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted
                                           or session.is_modified(obj)):
            raise PermissionError("audit_log is append-only: audit rows cannot be changed")
