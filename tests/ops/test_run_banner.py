"""`make run`'s welcome banner is one block, printed once everything is up, with nothing else in
it (issue 20: worker and web log lines landed inside it)."""
import logging
import subprocess
import sys
import warnings

from devtools import demo, run

PROCESSES = ["web", "worker-dial", "beat", "carrier-sim", "demo-agents"]


def test_the_banner_says_where_to_open_and_the_passwords_once(tmp_path):
    passwords = {"admin": "adm-secret", demo.SUPERVISOR: "sup-secret", demo.AGENT: "agt-secret"}
    text = run.welcome("http://127.0.0.1:5000", passwords, PROCESSES, demo=True, log_dir=tmp_path)
    lines = text.strip("\n").splitlines()
    assert lines[0] == "Omnivox is running."
    assert lines[1] == "  Open http://127.0.0.1:5000/  (health: http://127.0.0.1:5000/healthz)"
    for secret in passwords.values():
        assert text.count(secret) == 1
    assert f"Sign in as '{demo.SUPERVISOR}' to watch the wallboard: password 'sup-secret'" in text
    assert f"Logs: {tmp_path}/<process>.log" in text and ", ".join(PROCESSES) in text
    assert lines[-1] == "  Ctrl-C stops everything." and text.endswith("\n\n")
    assert all(line.startswith("  ") for line in lines[1:])  # one indented block: nothing else inside


def test_a_second_start_shows_no_password_and_names_what_is_still_starting(tmp_path):
    text = run.welcome("http://127.0.0.1:5000", {}, PROCESSES, demo=True, still_starting=["worker-dial"],
                       log_dir=tmp_path)
    assert "password '" not in text
    assert "An admin already exists" in text
    assert f"Still starting after {run.READY_WITHIN_SECONDS} s: worker-dial (see {tmp_path}/worker-dial.log)" in text


def test_this_process_logs_and_warns_into_its_file_not_the_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "INSTANCE", tmp_path)
    root = logging.getLogger()
    saved = list(root.handlers)
    root.addHandler(logging.StreamHandler(sys.stdout))  # as the app's own set-up adds one
    try:
        path = run._log_to_file()
        logging.getLogger("celery").warning("a line a worker might log")
        warnings.warn("a library's warning", RuntimeWarning)
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved:
            root.addHandler(handler)
        logging.captureWarnings(False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert "a line a worker might log" in path.read_text() and "a library's warning" in path.read_text()


def test_a_process_counts_as_up_only_by_what_it_wrote_since_this_start(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "INSTANCE", tmp_path)
    log = tmp_path / "worker-dial.log"
    log.write_text('{"message": "dial@vm ready."}\n')  # the last start's
    offsets = {"worker-dial": log.stat().st_size}
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        children = [("worker-dial", worker)]
        assert run._not_ready({}, children, offsets) == ["worker-dial"]
        with log.open("a") as f:
            f.write('{"message": "dial@vm ready."}\n')
        assert run._not_ready({}, children, offsets) == []
    finally:
        worker.kill()
        worker.wait()
