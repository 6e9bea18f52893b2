"""The import reads what spreadsheets write: a stray byte rejects its line, not the file; a
file Excel saved as Windows-1252 or UTF-16 imports whole; states, premium numbers and
overlong fields are refused line by line with a reason in words."""
import codecs
import io

import pytest
from sqlalchemy import select

from app.contacts.importer import run_contact_import
from app.contacts.models import Contact
from app.dnc.importer import run_dnc_import
from app.dnc.models import DncEntry
from app.extensions import db


@pytest.fixture
def cid(app, campaigns, upload_dir):
    return campaigns.create()


def _upload(client, path, content: bytes, name="list.csv"):
    return client.post(path, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _import(app, client, cid, content: bytes) -> dict:
    response = _upload(client, f"/api/campaigns/{cid}/contacts/import", content)
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        run_contact_import(response.get_json()["id"])
    return client.get(f"/api/imports/{response.get_json()['id']}").get_json()


def _rejections(client, job_id) -> dict:
    items = client.get(f"/api/imports/{job_id}/rejections?per_page=100").get_json()["items"]
    return {r["line"]: r for r in items}


def _names(app, job_id) -> dict:
    with app.app_context():
        return {c.phone_e164: (c.first_name, c.last_name) for c in db.session.scalars(
            select(Contact).where(Contact.import_job_id == job_id))}


def test_one_byte_that_is_not_utf8_rejects_its_line_and_the_other_39_import(app, login_as, cid):
    client = login_as("admin")
    lines = [f"212555{1000 + n:04d},Jos\u00e9 {n},Pe\u00f1a\n".encode() for n in range(40)]
    lines[15] = b"2125551015,Jos\xff,Bad\n"  # line 17 of the file (the header is line 1)
    job = _import(app, client, cid, b"phone,first_name,last_name\n" + b"".join(lines))

    assert job["status"] == "done", job
    assert (job["rows_read"], job["imported"], job["rejected"], job["read_as"]) == (40, 39, 1, "UTF-8")
    rejected = _rejections(client, job["id"])
    assert list(rejected) == [17]
    assert rejected[17]["outcome"] == "Not imported"
    assert rejected[17]["reason"].startswith("not readable text (byte 0xff at column 15)")
    assert rejected[17]["raw"] == "2125551015,Jos\u00ff,Bad"  # kept as it came, the byte shown as Windows-1252 does
    assert _names(app, job["id"])["+12125551000"] == ("Jos\u00e9 0", "Pe\u00f1a")


def test_a_file_excel_saved_as_windows_1252_imports_whole_and_says_so(app, login_as, cid):
    client = login_as("admin")
    text = "phone,first_name,last_name\n2125550131,Zo\u00eb,Br\u00fbl\u00e9e\n2125550132,Ren\u00e9e,O\u2019Neil\n"
    job = _import(app, client, cid, text.encode("cp1252"))

    assert (job["status"], job["imported"], job["rejected"], job["read_as"]) == ("done", 2, 0, "Windows-1252")
    assert _names(app, job["id"]) == {"+12125550131": ("Zo\u00eb", "Br\u00fbl\u00e9e"),
                                      "+12125550132": ("Ren\u00e9e", "O\u2019Neil")}


@pytest.mark.parametrize("bom, codec, read_as", [
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
])
def test_a_byte_order_mark_is_honoured(app, login_as, cid, bom, codec, read_as):
    client = login_as("admin")
    text = "phone,first_name\n2125550141,\u00c9lodie\n2125550142,\u0141ukasz\n"
    job = _import(app, client, cid, bom + text.encode(codec))
    assert (job["status"], job["imported"], job["read_as"]) == ("done", 2, read_as), job
    assert _names(app, job["id"])["+12125550141"] == ("\u00c9lodie", "")


def test_a_utf8_bom_keeps_the_file_utf8_even_with_a_stray_byte(app, login_as, cid):
    client = login_as("admin")
    content = codecs.BOM_UTF8 + b"phone,first_name\n2125550151,Ann\n2125550152,B\xe9a\n"
    job = _import(app, client, cid, content)
    assert (job["imported"], job["rejected"], job["read_as"]) == (1, 1, "UTF-8")
    assert _rejections(client, job["id"])[3]["reason"].startswith("not readable text (byte 0xe9 at column 13)")


def test_a_header_that_is_not_text_refuses_the_file_saying_what_to_do(app, login_as, cid):
    client = login_as("admin")
    response = _upload(client, f"/api/campaigns/{cid}/contacts/import", b"ph\xe9one,n\xc3\xa9\n2125550101,x\n")
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "header line (line 1) is not readable text" in message and "CSV UTF-8" in message


def test_the_do_not_call_import_reads_the_same_way(app, login_as, upload_dir):
    client = login_as("admin")
    content = b"phone,reason\n2125550161,asked\n2125550162,Zo\xff\n2125550163,ok\n" + "2125550164,Zo\u00eb\n".encode()
    response = _upload(client, "/api/dnc/import", content)
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["id"]
    with app.app_context():
        run_dnc_import(job_id)
        listed = set(db.session.scalars(select(DncEntry.phone_e164).where(DncEntry.phone_e164.like("+121255501%"))))
    job = client.get(f"/api/imports/{job_id}").get_json()
    assert (job["status"], job["imported"], job["rejected"]) == ("done", 3, 1), job
    assert listed == {"+12125550161", "+12125550163", "+12125550164"}
    assert _rejections(client, job_id)[3]["reason"].startswith("not readable text (byte 0xff")


def test_states_premium_numbers_and_overlong_fields_are_rejected_by_line(app, login_as, cid):
    client = login_as("admin")
    csv_text = (
        "phone,first_name,state,notes\n"              # 1
        "2125550171,Ann,ZZ,\n"                         # 2 not a state
        "+1 900 555 0172,Ben,NY,\n"                    # 3 premium rate
        "212-976-0173,Cat,NY,\n"                       # 4 pay-per-call exchange
        "212-411-0174,Dan,NY,\n"                       # 5 a service code as the exchange
        "212-555-1212,Eve,NY,\n"                       # 6 directory assistance
        f"2125550176,Fay,NY,{'x' * 5000}\n"            # 7 a 5,000-character field
        "2125550177,Gus,New York,\n"                   # 8 good: a full name is mapped
        "2025550178,Hal,dc,\n"                         # 9 good: DC, any case
        "7875550179,Ida,PR,\n"                         # 10 good: a territory
        "2125550180,Jo,,\n"                            # 11 good: no state
        f"2125550181,Kim,NY,{'y' * 1000}\n"            # 12 good: at the field limit
    )
    job = _import(app, client, cid, csv_text.encode())
    assert (job["imported"], job["rejected"]) == (5, 6), job
    reasons = {line: r["reason"] for line, r in _rejections(client, job["id"]).items()}
    assert reasons[2] == "state: 'ZZ' is not a US state, DC or territory (a code such as NY, or its full name)"
    assert reasons[3].startswith("phone: premium-rate number (area code 900), never called")
    assert reasons[4].startswith("phone: pay-per-call number (exchange 976)")
    assert reasons[5].startswith("phone: service code (411)")
    assert reasons[6].startswith("phone: directory assistance (555-1212)")
    assert reasons[7] == "column 'notes' holds 5,000 characters; a field may hold at most 1,000"
    with app.app_context():
        regions = dict(db.session.execute(select(Contact.phone_e164, Contact.region).where(
            Contact.import_job_id == job["id"])).all())
    assert regions == {"+12125550177": "NY", "+12025550178": "DC", "+17875550179": "PR",
                       "+12125550180": None, "+12125550181": "NY"}


def test_adding_a_contact_by_hand_checks_the_same_way(app, login_as, cid):
    client = login_as("admin")
    path = f"/api/campaigns/{cid}/contacts"
    premium = client.post(path, json={"phone": "+1 900 555 0190"})
    assert premium.status_code == 422
    assert "premium-rate" in premium.get_json()["error"]["fields"]["phone"][0]
    alt = client.post(path, json={"phone": "2125550191", "alt_phones": ["212-976-0191"]})
    assert alt.status_code == 422 and "pay-per-call" in alt.get_json()["error"]["fields"]["alt_phones"][0]
    state = client.post(path, json={"phone": "2125550192", "region": "ZZ"})
    assert state.status_code == 422
    assert "not a US state" in state.get_json()["error"]["fields"]["region"][0]
    assert client.post(path, json={"phone": "2125550193", "region": "Texas"}).status_code == 201
