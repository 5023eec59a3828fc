"""Result pages answer a POST; a reload or a bookmark (a GET) leads back to where the action
can be taken again, never to a 405."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from awesomeservice.lab.attacks import ATTACKS


@pytest.mark.parametrize(
    ("path", "back"),
    [
        ("/photos/3/try-delete", "/photos"),
        ("/debugger/exchange", "/debugger"),
        (f"/lab/{ATTACKS[0].slug}", f"/lab#{ATTACKS[0].slug}"),
        ("/lab/no-such-attack", "/lab"),
    ],
)
def test_a_get_on_a_result_page_goes_back(client: TestClient, path: str, back: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == back
