import pytest
from tests.browser.test_hostile_content import Watch, assert_inert, PHOTOSYNTHESIS, hostile_workbench  # noqa

@pytest.mark.parametrize("html", ['<img src=x onerror="window.__pwned=1">', '<img src="http://evil.example/a.png">', '<img src=x onerror="alert(1)">'])
def test_detector(hostile_workbench, page, html):
    base, _ = hostile_workbench
    watch = Watch(page, base)
    page.goto(base + PHOTOSYNTHESIS)
    page.evaluate("(h) => document.querySelector('.ai-tutor-text').innerHTML = h", html)
    with pytest.raises(AssertionError) as e:
        watch.assert_clean(page)
    print(e.value)
    with pytest.raises(AssertionError):
        assert_inert(page.locator('.ai-tutor-text').first)
