#!/usr/bin/env python3
"""Serve the genuine OpenStack Nova compute API on 127.0.0.1 for metaconform.

Everything runs in this one process, built from Nova's own functional-test
base (``nova.tests.functional.integrated_helpers._IntegratedTestBase``):
nova-conductor, nova-scheduler, one nova-compute with ``fake.FakeDriver``,
the real Placement app, fake Glance/Neutron/Cinder, SQLite in-memory
databases and the ``fake://`` RPC transport. The compute API itself is the
real ``osapi_compute`` paste pipeline from the venv's
``etc/nova/api-paste.ini``, served by ``eventlet.wsgi`` on loopback. Only
``keystonemiddleware.auth_token`` is replaced, by a filter that maps
``X-Auth-Token: user:project[:role,...]`` to the identity headers
keystonemiddleware would set (spec §7.3); Nova's real ``NovaKeystoneContext``
builds the request context from them.

Once the servers are ACTIVE, ONE JSON line is printed on stdout (field names
as in metaconform's ``src/serve/startup.rs``); then it serves until SIGTERM or
SIGINT. Everything else (Nova's log) goes to stderr or ``--log-file``.

Run it with the venv made by ``setup.sh``:  $NOVA_PEER_VENV/bin/python serve.py
"""

import argparse
import json
import os
import sys
import time

# oslotest reads these at setUp; none of them may capture or time us out.
for _var in ('OS_STDOUT_CAPTURE', 'OS_STDERR_CAPTURE', 'OS_LOG_CAPTURE',
             'OS_TEST_TIMEOUT', 'OS_DEBUG', 'OS_NOVA_DISABLE_EVENTLET_PATCHING'):
    os.environ.pop(_var, None)

# Only the startup line may reach stdout: keep a private copy of fd 1 for it
# and point fd 1 (and sys.stdout) at stderr for everything else.
_STARTUP_OUT = os.fdopen(os.dup(1), 'w', encoding='utf-8')
os.dup2(2, 1)
sys.stdout = sys.stderr

from nova import monkey_patch  # noqa: E402  (eventlet first, as nova does)
monkey_patch.patch()

import io  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402

import eventlet  # noqa: E402
import eventlet.wsgi  # noqa: E402
import fixtures  # noqa: E402
from keystonemiddleware import auth_token  # noqa: E402
from paste import deploy  # noqa: E402

import nova.conf  # noqa: E402
import nova.policy  # noqa: E402
from nova.tests.fixtures import glance as glance_fixture  # noqa: E402
from nova.tests.functional import fixtures as func_fixtures  # noqa: E402
from nova.tests.functional import integrated_helpers  # noqa: E402

CONF = nova.conf.CONF
LOG = logging.getLogger('nova-peer')

# The interpreter's warning filters before Nova's test fixtures change them
# (WarningsFixture turns several warnings into errors).
_DEPLOYMENT_WARNING_FILTERS = list(warnings.filters)

PASTE_INI = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
IMAGE_ID = glance_fixture.GlanceFixture.image1['id']
CREATE_MICROVERSION = '2.37'  # the first with "networks": "none"


# --------------------------------------------------------------------------
# The keystonemiddleware stand-in (spec §7.3)
# --------------------------------------------------------------------------

# Every header keystonemiddleware.auth_token removes from the client's
# request before it sets its own, so a client can never forge an identity.
_IDENTITY_FIELDS = ('Domain-Id', 'Domain-Name', 'Project-Id', 'Project-Name',
                    'Project-Domain-Id', 'Project-Domain-Name', 'User-Id',
                    'User-Name', 'User-Domain-Id', 'User-Domain-Name', 'Roles')
_STRIPPED_HEADERS = (
    ['X-%s' % f for f in _IDENTITY_FIELDS]
    + ['X-Service-%s' % f for f in _IDENTITY_FIELDS]
    + ['X-Service-Catalog', 'X-Identity-Status', 'X-Service-Identity-Status',
       'X-Is-Admin-Project', 'OpenStack-System-Scope', 'X-Role', 'X-User',
       'X-Tenant-Id', 'X-Tenant-Name', 'X-Tenant'])
_STRIPPED_ENVIRON = ['HTTP_' + h.upper().replace('-', '_')
                     for h in _STRIPPED_HEADERS]

# The request headers that carry a token; a request whose token the stand-in
# does not take goes to genuine keystonemiddleware without them.
_TOKEN_ENVIRON = ('HTTP_X_AUTH_TOKEN', 'HTTP_X_STORAGE_TOKEN',
                  'HTTP_X_SERVICE_TOKEN')


def parse_token(token):
    """``user:project[:role,...]`` -> (user, project, roles), or None.

    The same convention as metaconform's mock (``src/model/caller.rs``):
    the project defaults to the user when absent; roles default to
    admin,member,reader for user ``admin`` and member,reader otherwise.
    """
    token = (token or '').strip()
    if not token:
        return None
    parts = token.split(':', 2)
    user = parts[0]
    if not user:
        return None
    if len(parts) == 1:
        project = user
    elif parts[1]:
        project = parts[1]
    else:
        return None
    if len(parts) == 3:
        roles = [r.strip() for r in parts[2].split(',') if r.strip()]
    elif user == 'admin':
        roles = ['admin', 'member', 'reader']
    else:
        roles = ['member', 'reader']
    return user, project, roles


class TokenAuth(object):
    """WSGI filter in the place of keystonemiddleware.auth_token.

    A token it does not take is refused by genuine keystonemiddleware: the
    request goes, without its token, to an ``auth_token.AuthProtocol``,
    which rejects a request without a token before it would ask Keystone
    (``BaseAuthProtocol.process_request``: ``user_token_valid = False``),
    with the same 401 an invalid token gets: its body, its
    ``WWW-Authenticate`` and webob's ``Content-Type: application/json``.
    """

    def __init__(self, app, www_authenticate_uri='http://127.0.0.1/identity'):
        self.app = app
        self.reject = auth_token.AuthProtocol(app, {
            'www_authenticate_uri': www_authenticate_uri,
            'delay_auth_decision': 'false',
        })

    def __call__(self, environ, start_response):
        for key in _STRIPPED_ENVIRON:
            environ.pop(key, None)
        caller = parse_token(environ.get('HTTP_X_AUTH_TOKEN'))
        if caller is None:
            for key in _TOKEN_ENVIRON:
                environ.pop(key, None)
            return self.reject(environ, start_response)
        user, project, roles = caller
        environ.update({
            'HTTP_X_IDENTITY_STATUS': 'Confirmed',
            'HTTP_X_USER_ID': user,
            'HTTP_X_USER_NAME': user,
            'HTTP_X_USER_DOMAIN_ID': 'default',
            'HTTP_X_USER_DOMAIN_NAME': 'Default',
            'HTTP_X_PROJECT_ID': project,
            'HTTP_X_PROJECT_NAME': project,
            'HTTP_X_PROJECT_DOMAIN_ID': 'default',
            'HTTP_X_PROJECT_DOMAIN_NAME': 'Default',
            'HTTP_X_ROLES': ','.join(roles),
            'HTTP_X_IS_ADMIN_PROJECT': 'True',
            # keystonemiddleware also sets the deprecated names.
            'HTTP_X_ROLE': ','.join(roles),
            'HTTP_X_USER': user,
            'HTTP_X_TENANT_ID': project,
            'HTTP_X_TENANT_NAME': project,
            'HTTP_X_TENANT': project,
        })
        return self.app(environ, start_response)


def token_auth_filter_factory(global_conf, **local_conf):
    """Paste filter factory with keystonemiddleware's signature."""
    return TokenAuth


# --------------------------------------------------------------------------
# Nova, from its own functional-test base
# --------------------------------------------------------------------------

class NovaPeer(integrated_helpers._IntegratedTestBase):
    """All of Nova in this process; the test machinery only sets it up."""

    # RPC casts stay casts, as in a deployment: actions complete
    # asynchronously after their 202/204.
    CAST_AS_CALL = False
    # keystonemiddleware is replaced below, NovaKeystoneContext is the real one.
    STUB_KEYSTONE = False

    def runTest(self):  # testtools wants a test method; never called
        pass

    def setUp(self):
        # Before the base class builds anything with them.
        self.useFixture(fixtures.MonkeyPatch(
            'keystonemiddleware.auth_token.filter_factory',
            token_auth_filter_factory))
        self.flags(compute_driver='fake.FakeDriver')
        self.flags(api_paste_config=PASTE_INI, group='wsgi')
        # One host: resize goes to the same host (VERIFY_RESIZE reachable).
        self.flags(allow_resize_to_same_host=True)
        # In-memory SQLite: a recycled connection is an empty database.
        self.flags(connection_recycle_time=-1, group='database')
        self.flags(connection_recycle_time=-1, group='api_database')
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.functional.fixtures.PlacementFixture.'
            '_configure_placement', _configure_placement))
        super().setUp()


_ORIGINAL_CONFIGURE_PLACEMENT = func_fixtures.PlacementFixture._configure_placement


def _configure_placement(self, conf_fixture):
    _ORIGINAL_CONFIGURE_PLACEMENT(self, conf_fixture)
    conf_fixture.config(connection_recycle_time=-1,
                        group='placement_database')


def restore_deployment_defaults():
    """Undo what the test base changes away from a deployment."""
    # ConfFixture sets 'error' (a test-only setting); the default is 'warn'.
    CONF.set_override('response_validation', 'warn', group='api')
    # The Placement fixture lowers the shared oslo.policy option default to
    # False for every ConfigOpts; Nova's default is True (new RBAC).
    CONF.set_override('enforce_new_defaults', True, group='oslo_policy')
    nova.policy.reset()
    nova.policy.init()
    warnings.resetwarnings()
    warnings.filters[:] = _DEPLOYMENT_WARNING_FILTERS
    # OSAPIFixture sets debug=True and the logging fixture formats every
    # DEBUG record (into a null handler); a deployment logs at INFO.
    CONF.set_override('debug', False)
    logging.getLogger().setLevel(logging.INFO)


def check_in_memory_engines():
    """Every in-memory SQLite engine must never recycle its connection."""
    import gc

    import sqlalchemy

    seen = []
    for obj in gc.get_objects():
        if isinstance(obj, sqlalchemy.engine.Engine):
            url = obj.url
            if url.get_backend_name() != 'sqlite' or url.database not in (
                    None, '', ':memory:'):
                continue
            seen.append(obj)
            if obj.pool._recycle != -1:
                raise SystemExit('in-memory database %r has '
                                 'connection_recycle_time %s, not -1'
                                 % (str(url), obj.pool._recycle))
    return len(seen)


def redirect_log(stream):
    """The test logging fixture keeps INFO logs in memory; send them out."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            try:
                handler.stream.fileno()
            except (AttributeError, OSError, io.UnsupportedOperation):
                handler.setStream(stream)  # an in-memory buffer


# --------------------------------------------------------------------------
# HTTP against ourselves, to create the servers through the real API
# --------------------------------------------------------------------------

def api(base, token, method, path, body=None, microversion=None):
    headers = {'X-Auth-Token': token, 'Accept': 'application/json'}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers['Content-Type'] = 'application/json'
    if microversion:
        headers['OpenStack-API-Version'] = 'compute %s' % microversion
    req = urllib.request.Request(base + path, data=data, headers=headers,
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw = err.read()
        status = err.code
    return status, (json.loads(raw) if raw else None)


def create_servers(base, token, names):
    ids = []
    for name in names:
        status, body = api(base, token, 'POST', '/servers', {'server': {
            'name': name,
            'imageRef': IMAGE_ID,
            'flavorRef': '1',
            'networks': 'none',
        }}, microversion=CREATE_MICROVERSION)
        if status != 202:
            raise SystemExit('POST /servers gave %s: %s' % (status, body))
        ids.append(body['server']['id'])
    return ids


def wait_active(base, token, ids, timeout):
    deadline = time.monotonic() + timeout
    pending = list(ids)
    while pending:
        for sid in list(pending):
            status, body = api(base, token, 'GET', '/servers/%s' % sid,
                               microversion='2.73')
            server = (body or {}).get('server', {})
            if (status == 200 and server.get('status') == 'ACTIVE'
                    and server.get('OS-EXT-STS:task_state') is None):
                pending.remove(sid)
            elif server.get('status') == 'ERROR':
                raise SystemExit('server %s went to ERROR: %s' % (sid, body))
        if pending:
            if time.monotonic() > deadline:
                raise SystemExit('servers not ACTIVE after %ss: %s'
                                 % (timeout, pending))
            eventlet.sleep(0.05)


# --------------------------------------------------------------------------

_PEER = []  # for the cleanup after a failed start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--servers', type=int, default=4,
                        help='servers of the main project (default 4)')
    parser.add_argument('--alt-servers', type=int, default=2,
                        help='servers of the alt project (default 2)')
    parser.add_argument('--port', type=int, default=0,
                        help='TCP port on 127.0.0.1 (default: a free one)')
    parser.add_argument('--log-file',
                        help="Nova's log (INFO, one line a request); "
                             'default stderr')
    args = parser.parse_args()

    started = time.monotonic()
    log_stream = (open(args.log_file, 'a', buffering=1) if args.log_file
                  else sys.stderr)

    peer = NovaPeer('runTest')
    _PEER.append(peer)
    peer.setUp()
    # What the services logged while starting is in the fixture's buffer.
    log_stream.write(peer.stdlog.logger.output)
    redirect_log(log_stream)
    restore_deployment_defaults()

    app = deploy.loadapp('config:' + PASTE_INI, name='osapi_compute')
    sock = eventlet.listen(('127.0.0.1', args.port))
    port = sock.getsockname()[1]
    server = eventlet.spawn(
        eventlet.wsgi.server, sock, app,
        # Nova's RequestLog middleware is silent under eventlet.wsgi, which
        # logs each request itself.
        log=logging.getLogger('eventlet.wsgi.server'), log_output=True,
        max_size=1000, keepalive=True)

    project = uuid.uuid4().hex
    alt_project = uuid.uuid4().hex
    admin_project = uuid.uuid4().hex
    tokens = {
        'token': 'demo:%s:member,reader' % project,
        'admin_token': 'admin:%s:admin,member,reader' % admin_project,
        'same_project_admin_token': 'padmin:%s:admin,member,reader' % project,
        'reader_token': 'reader:%s:reader' % project,
        'alt_token': 'alt:%s:member,reader' % alt_project,
    }
    root = 'http://127.0.0.1:%d/v2.1' % port
    endpoint = '%s/%s' % (root, project)
    alt_endpoint = '%s/%s' % (root, alt_project)
    servers = create_servers(endpoint, tokens['token'],
                             ['mc-%d' % i for i in range(args.servers)])
    alt_servers = create_servers(alt_endpoint, tokens['alt_token'],
                                 ['mc-alt-%d' % i
                                  for i in range(args.alt_servers)])
    wait_active(endpoint, tokens['token'], servers, 120)
    wait_active(alt_endpoint, tokens['alt_token'], alt_servers, 120)
    engines = check_in_memory_engines()

    startup = {
        'endpoint': endpoint,
        'project_id': project,
        'token': tokens['token'],
        'admin_token': tokens['admin_token'],
        'reader_token': tokens['reader_token'],
        'alt_token': tokens['alt_token'],
        'alt_project_id': alt_project,
        'servers': servers,
        'alt_servers': alt_servers,
        'dialect': 'nova',
        # Beyond metaconform serve's fields. Nova refuses a URL whose project
        # is not the token's (400 "Malformed request URL"), so admin_token
        # (another project's admin) works only under compute_url, the
        # project-less catalog form; same_project_admin_token works under
        # endpoint, but its locks are owner locks (locked_by "owner").
        'compute_url': root,
        # The legacy /v2 API of the main project (spec §6.1): the same
        # v2.1 code behind legacy_v2_compatible, for --dialect nova-legacy.
        'legacy_endpoint': 'http://127.0.0.1:%d/v2/%s' % (port, project),
        'admin_project_id': admin_project,
        'same_project_admin_token': tokens['same_project_admin_token'],
        'flavor': '1',
        'resize_flavor': '2',
        'image': IMAGE_ID,
        'nova_version': _version('nova'),
        'placement_version': _version('openstack-placement'),
        'pid': os.getpid(),
        'startup_seconds': round(time.monotonic() - started, 2),
    }
    LOG.info('nova-peer ready on %s (%d in-memory engines, recycle off)',
             endpoint, engines)
    _STARTUP_OUT.write(json.dumps(startup) + '\n')
    _STARTUP_OUT.flush()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    while not stop and not server.dead:
        eventlet.sleep(0.2)
    server.kill()
    sock.close()
    # Temporary folders and services; never wait long for them.
    with eventlet.Timeout(15, False):
        peer.doCleanups()
    log_stream.flush()
    os._exit(0)


def _version(dist):
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


if __name__ == '__main__':
    try:
        main()
    except BaseException:
        # oslo.log's excepthook would put the traceback into the log fixture
        # (memory); write it where a person sees it.
        import traceback
        os.write(2, traceback.format_exc().encode())
        for peer in _PEER:  # its temporary folders; never wait long
            with eventlet.Timeout(15, False):
                peer.doCleanups()
        os._exit(1)
