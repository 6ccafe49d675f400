import re
from tests.coordination.test_consent_views import fixed_clock, child_id, login, record_form, POLICE, BUP, guardian_id, post, consent_id, as_user  # noqa

def test_dump(app, client, clock, count_queries, as_user):
    fixed_clock(clock)
    omar = child_id(app, "Omar")
    login(client, "maria")
    with count_queries() as counter:
        r = client.get(f"/children/{omar}/consent")
    for s in counter.statements:
        print("SQL:", re.sub(r"\s+", " ", s)[:140])
    open("/tmp/omar_consent.html", "w").write(r.get_data(as_text=True))
    c = as_user("maria")
    open("/tmp/record.html", "w").write(c.get(f"/children/{child_id(app, 'Alva')}/consent/record").get_data(as_text=True))
    data = record_form(app, "Elsa", POLICE, {guardian_id(app, "Ahmed"): {}}, purposes=[])
    a = as_user("anna")
    open("/tmp/record_err.html", "w").write(post(a, f"/children/{child_id(app, 'Elsa')}/consent/record", data).get_data(as_text=True))
    open("/tmp/withdraw.html", "w").write(c.get(f"/children/{omar}/consent/{consent_id(app, 'Omar', BUP)}/withdraw").get_data(as_text=True))
    open("/tmp/maturity.html", "w").write(c.get(f"/children/{omar}/consent/maturity").get_data(as_text=True))
    g = as_user("lars")
    open("/tmp/leo_lars.html", "w").write(g.get(f"/children/{child_id(app, 'Leo')}/consent").get_data(as_text=True))
