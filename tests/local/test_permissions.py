"""Who may change what, checked in the service layer (shared by CLI and web)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from wijkmonitor.local import accounts, interventions, targets, uploads
from wijkmonitor.local.errors import PermissionDenied, ValidationFailed
from wm_local_fakes import R
from wijkmonitor.local.models import AuditEntry, Intervention, LocalUpload, Target



def _target(s, actor, area, **kw):
    args = dict(target_value=10.0, target_year=2030, baseline_year=2020, baseline_value=15.0,
                reason="NPLV streefwaarde")
    args.update(kw)
    return targets.set_target(s, actor, area, "eenzaam_pct", **args, **R)


def test_utrecht_editor_cannot_change_rotterdam_targets(Session, users, rows):
    with Session.begin() as s:
        rdam = _target(s, accounts.get_user(s, "rotterdam"), "Rotterdam-Zuid")
        rdam_id = rdam.id
    audit_before = rows(AuditEntry)

    with Session() as s:
        editor = accounts.get_user(s, "utrecht")
        # create/replace, by name and by a Rotterdam CBS code
        with pytest.raises(PermissionDenied, match="GM0599"):
            _target(s, editor, "Rotterdam-Zuid", target_value=1.0)
        with pytest.raises(PermissionDenied):
            _target(s, editor, "WK059910")
        with pytest.raises(PermissionDenied):
            targets.delete_target(s, editor, rdam_id)
        # importing a file with one Rotterdam row rejects the whole file
        data = ("area,indicator,target_year,target_value\n"
                "Overvecht,eenzaam_pct,2030,9\n"
                "Rotterdam-Zuid,eenzaam_pct,2030,1\n").encode()
        with pytest.raises(ValidationFailed) as info:
            targets.import_targets(s, editor, data, "t.csv", **R)
        assert [(e.row, e.column) for e in info.value.errors] == [(3, "area")]
        assert "GM0599" in info.value.errors[0].reason
        s.commit()

    with Session() as s:
        t = s.get(Target, rdam_id)
        assert (t.target_value, t.set_by_name) == (10.0, "rotterdam")
        assert s.scalar(sa.select(sa.func.count()).select_from(Target)) == 1
    assert rows(AuditEntry) == audit_before


def test_each_editor_edits_own_gemeente_programme_edits_all(Session, users):
    with Session.begin() as s:
        t = _target(s, accounts.get_user(s, "utrecht"), "Overvecht")
        assert t.gemeente == "GM0344" and t.area_id == "utrecht-overvecht"
        t2 = _target(s, accounts.get_user(s, "programma"), "Rotterdam-Zuid", target_value=11)
        assert t2.set_by_name == "programma"
        t3 = _target(s, accounts.get_user(s, "beheer"), "G4")
        assert t3.gemeente is None
    with Session() as s:
        # areas spanning several gemeenten: programme team only
        with pytest.raises(PermissionDenied, match="meerdere gemeenten"):
            _target(s, accounts.get_user(s, "utrecht"), "G4")
        for name in ("public",):
            with pytest.raises(PermissionDenied):
                _target(s, accounts.get_user(s, "publiek"), "Overvecht")
        with pytest.raises(PermissionDenied):
            _target(s, None, "Overvecht")


def test_interventions_and_uploads_follow_the_same_rule(Session, users, rows):
    with Session.begin() as s:
        item = interventions.save_intervention(
            s, accounts.get_user(s, "rotterdam"), title="Wijkaanpak Zuid", actielijn="2",
            areas=["Rotterdam-Zuid"], **R)
        item_id = item.id
    with Session() as s:
        ed = accounts.get_user(s, "utrecht")
        with pytest.raises(PermissionDenied):
            interventions.save_intervention(s, ed, intervention_id=item_id, title="weg", **R)
        with pytest.raises(PermissionDenied):
            interventions.delete_intervention(s, ed, item_id)
        with pytest.raises(PermissionDenied):  # own area mixed with a Rotterdam area
            interventions.save_intervention(s, ed, title="x",
                                            areas=["Overvecht", "Rotterdam-Zuid"], **R)
        with pytest.raises(PermissionDenied):
            uploads.upload(s, ed, b"region,indicator,year,value\nWK059910,inwoners,2024,1\n",
                           "u.csv", "GM0599", source="test")
    with Session() as s:
        assert s.get(Intervention, item_id).title == "Wijkaanpak Zuid"
    assert rows(LocalUpload) == 0


def test_only_admin_manages_accounts(Session, users):
    with Session() as s:
        for who in ("programma", "utrecht", "publiek"):
            with pytest.raises(PermissionDenied):
                accounts.create_user(s, accounts.get_user(s, who), "nieuw", "admin",
                                     "long enough password")
        with pytest.raises(ValidationFailed, match="GMxxxx"):
            accounts.create_user(s, accounts.get_user(s, "beheer"), "nieuw", "gemeente-editor",
                                 "long enough password")
        with pytest.raises(ValidationFailed, match="te kort"):
            accounts.create_user(s, accounts.get_user(s, "beheer"), "nieuw", "public", "kort")


def test_passwords_are_argon2_hashed_and_checked(Session, users):
    with Session() as s:
        user = accounts.get_user(s, "utrecht")
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
        assert accounts.authenticate(s, "utrecht", "correct horse battery").id == user.id
        assert accounts.authenticate(s, "utrecht", "wrong password!!") is None
        assert accounts.authenticate(s, "niemand", "correct horse battery") is None
        assert "password_hash" not in user.to_dict()
