"""Imports over HTTP with a real worker: upload (202 and a job), the worker validates and writes,
the report as JSON and as downloads with formulas neutralised; officials import only their own
region's rows; refusals at upload time (wrong headers 422, roles 403)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from bangfu.access import Role
from graph.client import GraphClient
from graph.ingest.schemas import SOURCES
from graph.ingest.synthetic import department_rows, synthetic_national_ids, write_rows
from tests.integration.celery_worker import Worker
from tests.integration.conftest import COUNTY_A, COUNTY_B, Login, MakeUser, bearer
from workers.celery_app import app as celery_app

DIBAO = SOURCES["civil_affairs.dibao"]


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    celery_app.control.purge()
    w = Worker(tmp_path)
    w.start()
    yield w
    w.stop()
    celery_app.control.purge()


def dibao_csv(tmp_path: Path, regions: list[str], count: int = 40) -> Path:
    ids = list(synthetic_national_ids("440223", count))
    rows = list(department_rows(DIBAO.name, ids, regions, seed=4))
    path = tmp_path / "dibao.csv"
    write_rows(path, DIBAO, rows)
    return path


def upload(
    http: httpx.Client, token: str, path: Path, good_rows_only: bool = False
) -> httpx.Response:
    with path.open("rb") as f:
        return http.post(
            "/api/v1/imports",
            headers=bearer(token),
            files={"file": (path.name, f, "text/csv")},
            data={"source": DIBAO.name, "good_rows_only": str(good_rows_only).lower()},
        )


def wait_for(
    http: httpx.Client, token: str, job_id: str, timeout_s: float = 120
) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = http.get(f"/api/v1/jobs/{job_id}", headers=bearer(token)).json()
        if job["state"] in ("succeeded", "failed"):
            return dict(job)
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still running")


def test_upload_import_and_report_over_http(
    auth_graph: GraphClient,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
    http: httpx.Client,
    worker: Worker,
    tmp_path: Path,
) -> None:
    admin = token_of(make_user(Role.ADMIN))
    response = upload(http, admin, dibao_csv(tmp_path, [COUNTY_A, COUNTY_B]))
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert response.json()["kind"] == "import"
    job = wait_for(http, admin, job_id)
    assert job["state"] == "succeeded", job
    assert job["rows_done"] == job["rows_total"] == 40
    report = http.get(f"/api/v1/imports/{job_id}/report", headers=bearer(admin)).json()
    assert report["summary"]["outcome"] == "imported"
    assert report["summary"]["created"] == 40
    assert report["issues"] == [] and report["issues_total"] == 0
    count = auth_graph.read_one("MATCH (d:DeptRecord) RETURN count(d) AS n")
    assert count == {"n": 40}


def test_officials_import_only_their_region_and_reports_are_neutralised(
    auth_graph: GraphClient,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
    http: httpx.Client,
    worker: Worker,
    tmp_path: Path,
) -> None:
    official = token_of(make_user(Role.OFFICIAL, region_code=COUNTY_A))
    path = dibao_csv(tmp_path, [COUNTY_A], count=10)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[2]["region_code"] = COUNTY_B  # spreadsheet row 4: another county
    rows[5]["name"] = "=HYPERLINK(" + "x" * 60 + ")"  # row 7: too long, and formula-looking
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    response = upload(http, official, path)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    job = wait_for(http, official, job_id)
    assert job["state"] == "failed" and "rejected" in str(job["error"])
    report = http.get(f"/api/v1/imports/{job_id}/report", headers=bearer(official)).json()
    assert report["summary"]["outcome"] == "rejected"
    assert report["summary"]["counts"] == {"out_of_scope": 1, "too_long": 1}
    found = [(i["row"], i["column"], i["code"]) for i in report["issues"]]
    assert found == [(4, "region_code", "out_of_scope"), (7, "name", "too_long")]
    assert auth_graph.read_one("MATCH (d:DeptRecord) RETURN count(d) AS n") == {"n": 0}

    download = http.get(
        f"/api/v1/imports/{job_id}/report", params={"format": "csv"}, headers=bearer(official)
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert lines[2][0] == "7" and lines[2][5].startswith("'=H")
    xlsx = http.get(
        f"/api/v1/imports/{job_id}/report", params={"format": "xlsx"}, headers=bearer(official)
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=3, column=6).value.startswith("'=H")

    # Good rows only: the eight good rows land, the report still lists the two bad ones.
    partial = upload(http, official, path, good_rows_only=True).json()
    assert wait_for(http, official, partial["id"])["state"] == "succeeded"
    assert auth_graph.read_one("MATCH (d:DeptRecord) RETURN count(d) AS n") == {"n": 8}

    other = token_of(make_user(Role.OFFICIAL, region_code=COUNTY_B))
    hidden = http.get(f"/api/v1/imports/{job_id}/report", headers=bearer(other))
    assert hidden.status_code == 404


def test_refusals_at_upload_time(
    auth_graph: GraphClient,
    make_user: MakeUser,
    token_of: Callable[[Login], str],
    http: httpx.Client,
    tmp_path: Path,
) -> None:
    admin = token_of(make_user(Role.ADMIN))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("身份证号,姓名\n440223197503091012,王五\n", encoding="utf-8")
    response = upload(http, admin, wrong)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "wrong_headers"
    assert "缺少列" in error["message_zh"] and "missing columns" in error["message"]
    assert "440223197503091012" not in response.text
    with wrong.open("rb") as f:
        unknown = http.post(
            "/api/v1/imports",
            headers=bearer(admin),
            files={"file": ("x.csv", f, "text/csv")},
            data={"source": "tax.income"},
        )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_source"
    field_worker = token_of(make_user(Role.FIELD_WORKER, region_code="440223101"))
    assert upload(http, field_worker, wrong).status_code == 403
