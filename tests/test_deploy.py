"""What a Heroku-style host deploys from (README.md, "Deploy"): app.json, the runtime pin and the
Procfile agree with the settings the code reads and with what the README tells a newcomer."""
import json
import pathlib
import re

from tracker.config import PARSERS

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def manifest():
    return json.loads((ROOT / "app.json").read_text())


def web_command():
    return next(line.split(":", 1)[1].strip() for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))


def test_app_json_names_only_documented_settings_and_requires_the_identity():
    env = manifest()["env"]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", README, re.MULTILINE))
    assert set(env) <= documented, set(env) - documented
    for name in ("SLIPSTREAM_PUBLIC_URL", "TRACKER_KEY"):
        assert name in PARSERS and env[name]["required"] is True and "value" not in env[name]
    assert "generator" not in env["TRACKER_KEY"] and "python -m tracker key" in env["TRACKER_KEY"]["description"]
    for name, entry in env.items():
        if name in PARSERS and "value" in entry:
            PARSERS[name](name, entry["value"])  # a malformed default would stop every dyno
    assert env["SLIPSTREAM_ROLE"]["value"] == "tracker"


def test_app_json_asks_for_postgresql_and_two_web_dynos():
    app = manifest()
    assert [a["plan"].split(":")[0] for a in app["addons"]] == ["heroku-postgresql"]
    assert app["formation"]["web"]["quantity"] >= 2
    # hls.js comes from npm (package-lock.json) before the Python app is built.
    assert [b["url"] for b in app["buildpacks"]] == ["heroku/nodejs", "heroku/python"]


def test_the_runtime_pin_and_the_procfile_are_what_the_readme_says():
    assert (ROOT / ".python-version").read_text().strip() == "3.11"
    command = web_command()
    assert command.startswith("gunicorn -c gunicorn.conf.py ") and command.endswith(" wsgi:app")
    deploy = README.split("## Deploy", 1)[1].split("\n## ", 1)[0]
    assert f"`{command}`" in deploy and f"ExecStart=/opt/slipstream/.venv/bin/{command}" in deploy
