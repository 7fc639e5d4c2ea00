"""Vergelijken (issue 18.7): the two request bounds that had one side untested, each on both
sides: the codes field of at most 2000 characters and at most 100 indicators. The numbers are
written here, not read from the code; the answers are Dutch 400s with Dutch digit grouping."""

from __future__ import annotations


def test_codes_field_at_most_2000_characters(client):
    codes = "BU03440343" + " " * 1990  # 2000 characters, one place
    assert len(codes) == 2000
    ok = client.get("/vergelijken", params={"codes": codes, "jaar": [2020]})
    assert ok.status_code == 200, ok.text[-500:]
    over = client.get("/vergelijken", params={"codes": codes + " ", "jaar": [2020]})
    assert over.status_code == 400
    assert "Het veld met codes is te lang (2.001 tekens; hoogstens 2.000)" in over.text


def test_at_most_100_indicators(client):
    # 101 distinct ids: refused by the bound before any id is looked up
    over = client.get("/vergelijken", params={"gebied": "utrecht-overvecht", "jaar": [2020],
                                              "indicator": [f"x{i}" for i in range(101)]})
    assert over.status_code == 400 and "U koos 101 indicatoren; kies er hoogstens 100" in over.text
    # 100 ids pass the bound; the first unknown id is then named (a Dutch 404, not the bound)
    at = client.get("/vergelijken", params={"gebied": "utrecht-overvecht", "jaar": [2020],
                                            "indicator": [f"x{i}" for i in range(100)]})
    assert at.status_code == 404 and "Onbekende indicator" in at.text
    assert "kies er hoogstens" not in at.text
