"""The checkpoint download cache: keyed by the whole URL, complete downloads only, verified on
every hit (mmsofteq.utils.checkpoint_download), served by a real http server on 127.0.0.1."""
import functools
import hashlib
import http.server
import os
import threading

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader

from mmsofteq.utils import DamagedCheckpointError, download_checkpoint
from mmsofteq.utils.checkpoint_download import RECORD_SUFFIX, cache_path


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; paths listed in ``server.truncate`` announce their full length but
    send half of it (a connection that drops)."""

    def do_GET(self):
        if self.path in self.server.truncate:
            data = open(os.path.join(self.directory, self.path.lstrip('/')), 'rb').read()
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / 'served'
    folder.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(_Handler, directory=str(folder)))
    httpd.truncate = set()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    hub_dir = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    try:
        yield httpd, folder, f'http://127.0.0.1:{httpd.server_address[1]}'
    finally:
        torch.hub.set_dir(hub_dir)
        httpd.shutdown()
        httpd.server_close()


def _serve(folder, relative, value):
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({'w': torch.full((3, ), float(value))}, str(path))
    return path


def _cache_dir(tmp_path):
    return str(tmp_path / 'hub' / 'checkpoints')


def _load(url):
    return CheckpointLoader.load_checkpoint(url, map_location='cpu')['w'][0].item()


def test_same_file_name_under_two_urls_gives_two_files(server, tmp_path):
    _, folder, url = server
    _serve(folder, 'a/model.pth', 1)
    _serve(folder, 'b/model.pth', 2)
    assert _load(f'{url}/a/model.pth') == 1
    assert _load(f'{url}/b/model.pth') == 2  # torch hub's cache would return a's file
    assert _load(f'{url}/a/model.pth') == 1
    names = sorted(os.listdir(_cache_dir(tmp_path)))
    assert len([n for n in names if n.endswith('-model.pth')]) == 2
    assert len([n for n in names if n.endswith(RECORD_SUFFIX)]) == 2


def test_a_truncated_download_is_not_cached(server, tmp_path):
    httpd, folder, url = server
    _serve(folder, 'model.pth', 3)
    httpd.truncate.add('/model.pth')
    with pytest.raises(OSError, match=r'ended after [\d,]+ of [\d,]+ bytes; nothing was cached, '
                                      'run again to retry'):
        download_checkpoint(f'{url}/model.pth')
    assert os.listdir(_cache_dir(tmp_path)) == []  # no partial file either
    httpd.truncate.clear()  # the connection works again: the rerun succeeds
    assert _load(f'{url}/model.pth') == 3


def test_a_name_with_a_hash_prefix_is_verified(server, tmp_path):
    _, folder, url = server
    path = _serve(folder, 'model-0123abcd.pth', 4)
    assert not hashlib.sha256(path.read_bytes()).hexdigest().startswith('0123abcd')
    with pytest.raises(OSError, match='not the 0123abcd its name promises; nothing was cached'):
        download_checkpoint(f'{url}/model-0123abcd.pth')
    assert os.listdir(_cache_dir(tmp_path)) == []
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    os.rename(path, folder / f'model-{digest}.pth')
    assert _load(f'{url}/model-{digest}.pth') == 4


def test_a_server_error_page_is_not_cached(server, tmp_path):
    _, folder, url = server
    (folder / 'page.pth').write_text('<html>503 Service Unavailable</html>')
    with pytest.raises(DamagedCheckpointError, match='Nothing was cached; check the URL'):
        download_checkpoint(f'{url}/page.pth')
    assert os.listdir(_cache_dir(tmp_path)) == []


def test_a_changed_cache_entry_is_downloaded_again(server, tmp_path):
    _, folder, url = server
    _serve(folder, 'model.pth', 5)
    assert _load(f'{url}/model.pth') == 5
    cached = cache_path(f'{url}/model.pth', _cache_dir(tmp_path))
    torch.save({'w': torch.full((3, ), 666.0)}, cached)  # replaced behind the cache's back
    assert _load(f'{url}/model.pth') == 5
    os.remove(cached + RECORD_SUFFIX)  # an entry without its record is not trusted either
    torch.save({'w': torch.full((3, ), 666.0)}, cached)
    assert _load(f'{url}/model.pth') == 5


def test_a_hand_placed_file_is_used_only_when_its_name_verifies_it(server, tmp_path):
    _, folder, url = server
    os.makedirs(_cache_dir(tmp_path))
    torch.save({'w': torch.full((3, ), 7.0)}, os.path.join(_cache_dir(tmp_path), 'model.pth'))
    _serve(folder, 'model.pth', 8)
    assert _load(f'{url}/model.pth') == 8  # no hash in the name: downloaded, not assumed
    placed = os.path.join(_cache_dir(tmp_path), 'other.pth')
    torch.save({'w': torch.full((3, ), 9.0)}, placed)
    digest = hashlib.sha256(open(placed, 'rb').read()).hexdigest()[:8]
    os.rename(placed, os.path.join(_cache_dir(tmp_path), f'other-{digest}.pth'))
    # the server does not have it: offline use of a verified hand-placed file
    assert _load(f'{url}/other-{digest}.pth') == 9
