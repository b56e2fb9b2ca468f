"""The list of procedures a user can start."""

from __future__ import annotations

import re

from .process_helpers import deploy_processes


def test_enterprises_see_procedure_names_without_internal_versions(app, factory):
    deploy_processes(app.extensions["pazhou"]["db"])
    enterprise, _ = factory.web_login(
        factory.user("enterprise", enterprise_id=factory.enterprise())
    )
    officer, _ = factory.web_login(factory.user("officer", "housing"))

    def listed(client) -> str:
        page = client.get("/cases/new").get_data(as_text=True)
        return re.search(r'data-testid="procedures">(.*?)</ul>', page, re.S).group(1)

    assert "竣工联合验收" in listed(enterprise)
    assert "v1" not in listed(enterprise)
    assert "v1" in listed(officer)  # staff tell versions apart
