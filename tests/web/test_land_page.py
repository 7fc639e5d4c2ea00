"""The page of the Netherlands itself: no gap to itself (it answered 500, KeyError 'NL')."""


def test_the_netherlands_page_answers_without_a_gap_to_itself(client):
    r = client.get("/gebied/NL")
    assert r.status_code == 200
    h1 = r.text.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert "Nederland" in h1
    # a gemeente page still compares with the country
    assert "Nederland" in client.get("/gebied/GM0344").text
