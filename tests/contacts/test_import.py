"""CSV import: good rows land, every other row is reported with its line and reason."""
import io

import pytest
from sqlalchemy import select

from app.contacts.importer import run_contact_import
from app.contacts.models import Contact
from app.imports.models import ImportJob
from app.dnc.models import DncEntry
from app.extensions import db

CSV = (
    "phone,first_name,last_name,alt_phone,state,zip,timezone,loyalty tier\n"   # 1
    "(212) 555-0101,Ada,Lovelace,,NY,,,gold\n"                                   # 2 good (NY)
    "+1 915 555 0102,Bob,Stone,212-555-0199,,,,\n"                               # 3 good (El Paso: Denver)
    "555-01,Cy,Short,,,,,\n"                                                     # 4 malformed: too short
    "not a number,Di,Letters,,,,,\n"                                             # 5 malformed: not a number
    "212.555.0101,Ada,Again,,,,,\n"                                              # 6 duplicate of line 2
    "2125550107,Ed,Internal,,,,,\n"                                              # 7 on the internal DNC list
    "2125550108,Flo,Campaign,,,,,\n"                                             # 8 on this campaign's DNC list
    "2125550109,Gus,Broken\n"                                                    # 9 broken line: 3 fields
    "\n"                                                                         # 10 blank: not a row
    "2125550111,Hal,\"Zoned\",,TX,90210,,\n"                                     # 11 good: ZIP wins -> LA
    "2125550112,Ivy,Explicit,,,,Europe/Paris,\n"                                 # 12 good: explicit zone
    "2125550113,Jo,BadZone,,,,Mars/Olympus,\n"                                   # 13 malformed: unknown zone
    "2125550114,Kim,\"bad\"quote,,,,,\n"                                         # 14 broken CSV quoting
    "2125550115,Lee,BadAlt,12,,,,\n"                                             # 15 malformed alternate phone
    "+44 20 7946 0000,Mo,London,,,,,\n"                                          # 16 good: UK number
    "2125550199,Ned,Existing,,,,,\n"                                             # 17 already in campaign
)


@pytest.fixture
def setup(app, users, campaigns, upload_dir):
    supervisor = users.create("supervisor")
    cid = campaigns.create(supervisors=[supervisor])
    other = campaigns.create()
    with app.app_context():
        db.session.add_all([DncEntry(phone_e164="+12125550107"),
                            DncEntry(phone_e164="+12125550108", campaign_id=cid),
                            DncEntry(phone_e164="+12125550101", campaign_id=other),  # not this campaign's
                            Contact(campaign_id=cid, phone_e164="+12125550199")])
        db.session.commit()
    return supervisor, cid


def _upload(client, cid, text, name="list.csv", **form):
    data = {"file": (io.BytesIO(text if isinstance(text, bytes) else text.encode()), name), **form}
    return client.post(f"/api/campaigns/{cid}/contacts/import", data=data, content_type="multipart/form-data")


def test_import_reports_every_count_and_every_line(app, login_as, setup):
    supervisor, cid = setup
    client = login_as("admin")
    response = _upload(client, cid, CSV)
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert job["status"] == "pending" and job["column_map"]["columns"]["custom"] == ["loyalty tier"]

    with app.app_context():
        run_contact_import(job["id"])

    job = client.get(f"/api/imports/{job['id']}").get_json()
    assert job["status"] == "done", job
    assert (job["rows_read"], job["imported"], job["rejected"], job["duplicates"], job["dnc_skipped"]) == (
        15, 5, 6, 2, 2)  # the blank line 10 is not a row
    rejections = client.get(f"/api/imports/{job['id']}/rejections?per_page=100").get_json()
    by_line = {r["line"]: (r["kind"], r["reason"]) for r in rejections["items"]}
    assert rejections["meta"]["total"] == 10
    assert sorted(by_line) == [4, 5, 6, 7, 8, 9, 13, 14, 15, 17]
    assert by_line[4][0] == "invalid" and "phone" in by_line[4][1]
    assert by_line[5] == ("invalid", "phone: not a phone number: 'not a number'")
    assert by_line[6] == ("duplicate", "duplicate of line 2")
    assert by_line[7][0] == by_line[8][0] == "dnc"
    assert by_line[9] == ("invalid", "broken line: 3 fields where the header has 8")
    assert by_line[13] == ("invalid", "timezone: unknown time zone 'Mars/Olympus'")
    assert by_line[14][0] == "invalid" and "broken CSV line" in by_line[14][1]
    assert by_line[15][0] == "invalid" and by_line[15][1].startswith("alternate phone:")
    assert by_line[17] == ("duplicate", "the number is already in the campaign")

    with app.app_context():
        contacts = {c.phone_e164: c for c in db.session.scalars(
            select(Contact).where(Contact.import_job_id == job["id"]))}
    assert set(contacts) == {"+12125550101", "+19155550102", "+12125550111", "+12125550112", "+442079460000"}
    ada = contacts["+12125550101"]
    assert (ada.first_name, ada.last_name, ada.timezone, ada.region) == ("Ada", "Lovelace", "America/New_York", "NY")
    assert ada.custom_fields == {"loyalty tier": "gold"}
    assert contacts["+19155550102"].alt_phones == ["+12125550199"]
    assert contacts["+19155550102"].timezone == "America/Denver"
    assert contacts["+12125550111"].timezone == "America/Los_Angeles"
    assert contacts["+12125550112"].timezone == "Europe/Paris"
    assert contacts["+442079460000"].timezone == "Europe/London"


def test_rejected_rows_download_as_csv_with_their_columns(app, login_as, setup):
    _, cid = setup
    client = login_as("admin")
    job_id = _upload(client, cid, CSV).get_json()["id"]
    with app.app_context():
        run_contact_import(job_id)
    response = client.get(f"/api/imports/{job_id}/rejections.csv?kind=invalid")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "line,outcome,reason,phone,first_name,last_name,alt_phone,state,zip,timezone,loyalty tier"
    assert lines[1].startswith("4,Not imported,") and lines[1].endswith("555-01,Cy,Short,,,,,")
    assert len(lines) == 1 + 6


def test_good_rows_land_across_batches_and_progress_is_counted(app, login_as, setup, monkeypatch):
    from app.imports import csvfile

    monkeypatch.setattr(csvfile, "BATCH_ROWS", 7)
    _, cid = setup
    client = login_as("admin")
    rows = "".join(f"212555{n:04d},N{n}\n" for n in range(1000, 1050)) + "2125551000,again\n"
    job_id = _upload(client, cid, "phone,first_name\n" + rows).get_json()["id"]
    with app.app_context():
        run_contact_import(job_id)
    job = client.get(f"/api/imports/{job_id}").get_json()
    assert (job["rows_read"], job["imported"], job["duplicates"]) == (51, 50, 1)


@pytest.mark.parametrize("content, status, phrase", [
    ("name,email\nAda,a@example.com\n".encode(), 422, "no phone column"),
    (b"", 422, "empty"),
    (b"phone\n\x00\x01\x02", 422, "binary"),
])
def test_a_broken_file_is_refused_up_front_and_nothing_is_queued(app, login_as, setup, upload_dir,
                                                                  content, status, phrase):
    _, cid = setup
    client = login_as("admin")
    response = _upload(client, cid, content)
    assert response.status_code == status, response.get_json()
    assert phrase in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(ImportJob).where(ImportJob.campaign_id == cid)) is None
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


def test_an_oversized_file_is_refused_with_413(app, login_as, setup):
    _, cid = setup
    client = login_as("admin")
    original = app.config["IMPORT_MAX_BYTES"]
    app.config["IMPORT_MAX_BYTES"] = 100 * 1024
    try:
        response = _upload(client, cid, "phone\n" + "2125550101\n" * 20000)
    finally:
        app.config["IMPORT_MAX_BYTES"] = original
    assert response.status_code == 413 and "import limit" in response.get_json()["error"]["message"]


def test_a_column_map_picks_the_columns(app, login_as, setup):
    _, cid = setup
    client = login_as("admin")
    text = "Mobile,Given,Home\n2125550121,Pat,2125550122\n"
    bad = _upload(client, cid, text, column_map='{"phone": "Cell"}')
    assert bad.status_code == 422 and "Cell" in bad.get_json()["error"]["message"]
    ok = _upload(client, cid, text, column_map='{"phone": "Mobile", "first_name": "Given", "alt_phones": ["Home"]}')
    assert ok.status_code == 202, ok.get_json()
    with app.app_context():
        run_contact_import(ok.get_json()["id"])
        contact = db.session.scalar(select(Contact).where(Contact.phone_e164 == "+12125550121"))
        assert (contact.first_name, contact.alt_phones, contact.custom_fields) == ("Pat", ["+12125550122"], {})


def test_a_file_unreadable_midway_fails_and_leaves_nothing_imported(app, login_as, setup, monkeypatch):
    from app.imports import csvfile

    monkeypatch.setattr(csvfile, "BATCH_ROWS", 10)
    _, cid = setup
    client = login_as("admin")
    good = "phone\n" + "".join(f"212555{n:04d}\n" for n in range(2000, 2100))
    job_id = _upload(client, cid, good).get_json()["id"]
    real_records = csvfile.records

    def records_then_disk_error(fh, header):
        for n, record in enumerate(real_records(fh, header)):
            if n == 55:
                raise OSError("Input/output error")
            yield record

    monkeypatch.setattr(csvfile, "records", records_then_disk_error)
    with app.app_context():
        run_contact_import(job_id)
        job = db.session.get(ImportJob, job_id)
        assert job.status == "failed" and "Nothing was imported: upload the file again" in job.error
        assert "Input/output" not in job.error
        assert db.session.scalar(select(db.func.count()).select_from(Contact).where(
            Contact.import_job_id == job_id)) == 0
    assert not csvfile.os.path.exists(job.stored_path)


def test_running_the_task_twice_imports_once(app, login_as, setup):
    from workers.default import import_contacts

    _, cid = setup
    client = login_as("admin")
    job_id = _upload(client, cid, "phone\n2125550131\n").get_json()["id"]
    import_contacts(job_id)
    import_contacts(job_id)
    job = client.get(f"/api/imports/{job_id}").get_json()
    assert (job["status"], job["imported"]) == ("done", 1)


def test_a_job_another_worker_holds_is_left_alone(app, login_as, setup, redis_client):
    _, cid = setup
    client = login_as("admin")
    job_id = _upload(client, cid, "phone\n2125550141\n").get_json()["id"]
    redis_client.set(f"import:lock:{job_id}", "someone-else", ex=60)
    with app.app_context():
        assert run_contact_import(job_id).status == "pending"
    redis_client.delete(f"import:lock:{job_id}")
    with app.app_context():
        assert run_contact_import(job_id).status == "done"
