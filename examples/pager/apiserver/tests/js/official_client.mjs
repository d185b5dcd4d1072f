// The official Kubernetes JavaScript client (@kubernetes/client-node) against pager-apiserver.
//
// usage: KUBE_JS_CLIENT_DIR=<dir with node_modules/@kubernetes/client-node> \
//            node official_client.mjs HOST:PORT
//
// Every call's outcome is checked; the first mismatch throws, and the script exits non-zero
// naming the step and the call that failed. Covers CustomObjectsApi and KubernetesObjectApi in
// both served versions (create, get, list by label and in pages, replace, merge and JSON patch,
// server-side apply, delete, deletecollection), a Watch and an informer (makeInformer) seeing
// writes made in the other version, error Statuses and discovery.

import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual, inspect } from 'node:util';

const clientDir = process.env.KUBE_JS_CLIENT_DIR;
if (!clientDir) {
    throw new Error('KUBE_JS_CLIENT_DIR is not set');
}
// ESM ignores NODE_PATH: resolve the package from the client directory, then import it.
const resolveFromClient = createRequire(path.join(path.resolve(clientDir), 'package.json'));
const k8s = await import(pathToFileURL(resolveFromClient.resolve('@kubernetes/client-node')).href);

const [GROUP, ALPHA, BETA, PLURAL, NS] = ['pager.k8s.co', 'v1alpha1', 'v1beta1', 'alerts', 'js'];
const WAIT_MS = 10_000;

// The whole run is a few seconds; a hang fails instead of blocking the test.
setTimeout(() => {
    console.error(`timed out after 60 s (at step: ${currentStep})`);
    process.exit(2);
}, 60_000).unref();

let currentStep = 'start';
function step(name) {
    currentStep = name;
    console.log(`- ${name}`);
}

function expect(what, got, want) {
    if (!isDeepStrictEqual(got, want)) {
        throw new Error(`${what}: got ${inspect(got, { depth: 6 })}, want ${inspect(want, { depth: 6 })}`);
    }
}

function check(what, ok, detail) {
    if (!ok) {
        throw new Error(`${what}: ${inspect(detail, { depth: 6 })}`);
    }
}

// The ApiException a call rejects with (it must reject with one), its body parsed as JSON.
async function apiError(what, call) {
    let e;
    try {
        const got = await call();
        throw new Error(`${what}: the call succeeded with ${inspect(got, { depth: 4 })}; an error was expected`);
    } catch (err) {
        e = err;
    }
    if (!(e instanceof k8s.ApiException)) {
        throw e;
    }
    let body;
    try {
        body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    } catch {
        throw new Error(`${what}: HTTP ${e.code} with a body that is not JSON: ${inspect(e.body)}`);
    }
    return { code: e.code, body };
}

// kube-apiserver's Status for a failed call, field by field.
function expectStatus(what, err, code, reason, name, message) {
    expect(`${what}: HTTP status`, err.code, code);
    const s = err.body;
    expect(`${what}: Status kind/apiVersion`, [s.kind, s.apiVersion], ['Status', 'v1']);
    expect(`${what}: Status status/reason/code`, [s.status, s.reason, s.code], ['Failure', reason, code]);
    expect(`${what}: Status details`, [s.details?.name, s.details?.group, s.details?.kind], [name, GROUP, PLURAL]);
    if (message !== undefined) {
        expect(`${what}: Status message`, s.message, message);
    }
}

async function waitFor(what, cond, state) {
    const deadline = Date.now() + WAIT_MS;
    while (!cond()) {
        if (Date.now() > deadline) {
            throw new Error(`${what}: not seen within ${WAIT_MS / 1000} s; seen: ${inspect(state(), { depth: 5 })}`);
        }
        await new Promise((r) => setTimeout(r, 20));
    }
}

function alpha(name, message, labels) {
    return {
        apiVersion: `${GROUP}/${ALPHA}`,
        kind: 'Alert',
        metadata: { name, namespace: NS, ...(labels ? { labels } : {}) },
        spec: { message },
    };
}

function beta(name, content, title, labels) {
    return {
        apiVersion: `${GROUP}/${BETA}`,
        kind: 'Alert',
        metadata: { name, namespace: NS, ...(labels ? { labels } : {}) },
        spec: { content, title },
    };
}

async function main(addr) {
    const kc = new k8s.KubeConfig();
    // As the Python test: plain HTTP on loopback, no credentials (the harness runs the server
    // with --plain-http). client-node 1.x refuses an http:// server unless skipTLSVerify is
    // set, although there is no TLS to verify.
    kc.loadFromOptions({
        clusters: [{ name: 'pager', server: `http://${addr}`, skipTLSVerify: true }],
        users: [{ name: 'dev' }],
        contexts: [{ name: 'pager', cluster: 'pager', user: 'dev', namespace: NS }],
        currentContext: 'pager',
    });
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    const at = (version, extra) => ({ group: GROUP, version, namespace: NS, plural: PLURAL, ...extra });

    step('discovery');
    const groups = (await kc.makeApiClient(k8s.ApisApi).getAPIVersions()).groups;
    const pager = groups.find((g) => g.name === GROUP);
    check('/apis lists pager.k8s.co', pager, groups.map((g) => g.name));
    expect('preferred version', pager.preferredVersion.version, BETA);
    expect('served versions', pager.versions.map((v) => v.version).sort(), [ALPHA, BETA]);
    expect('groupVersions', pager.versions.map((v) => v.groupVersion).sort(), [`${GROUP}/${ALPHA}`, `${GROUP}/${BETA}`]);
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    check('/version gitVersion is Kubernetes-style', version.gitVersion?.startsWith('v1.'), version);
    for (const v of [ALPHA, BETA]) {
        const resource = await objects.resource(`${GROUP}/${v}`, 'Alert');
        check(`${v} discovery has Alert`, resource, v);
        expect(`${v} resource name/namespaced`, [resource.name, resource.namespaced], [PLURAL, true]);
        expect(`${v} verbs`, [...resource.verbs].sort(), ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    }

    step('create in v1beta1, read and replace across versions');
    const noise = await custom.createNamespacedCustomObject(at(BETA, { body: beta('noise', 'noisy', 'Noise') }));
    expect('created in v1beta1', [noise.apiVersion, noise.kind, noise.metadata.name], [`${GROUP}/${BETA}`, 'Alert', 'noise']);
    expect('defaulted priority (v1beta1)', noise.spec.priority, 'normal');
    const noiseAlpha = await custom.getNamespacedCustomObject(at(ALPHA, { name: 'noise' }));
    expect('read in v1alpha1', noiseAlpha.apiVersion, `${GROUP}/${ALPHA}`);
    expect('content becomes message', noiseAlpha.spec.message, 'noisy');
    expect('title kept as annotation in v1alpha1', noiseAlpha.metadata.annotations?.[`${GROUP}/title`], 'Noise');
    const noiseBeta = await custom.getNamespacedCustomObject(at(BETA, { name: 'noise' }));
    noiseBeta.spec.content = 'noise replaced';
    const noiseReplaced = await custom.replaceNamespacedCustomObject(at(BETA, { name: 'noise', body: noiseBeta }));
    expect('replace in v1beta1', [noiseReplaced.spec.content, noiseReplaced.spec.title], ['noise replaced', 'Noise']);
    expect(
        'replace in v1beta1 read in v1alpha1',
        (await custom.getNamespacedCustomObject(at(ALPHA, { name: 'noise' }))).spec.message,
        'noise replaced',
    );

    step('watch in v1beta1 from a list resourceVersion');
    const startRv = (await custom.listNamespacedCustomObject(at(BETA))).metadata.resourceVersion;
    check('list has a resourceVersion', startRv, startRv);
    const events = [];
    let watchEnded;
    const watchCtl = await new k8s.Watch(kc).watch(
        `/apis/${GROUP}/${BETA}/namespaces/${NS}/${PLURAL}`,
        { resourceVersion: startRv },
        (type, obj) => events.push({ type, name: obj?.metadata?.name, apiVersion: obj?.apiVersion, content: obj?.spec?.content, title: obj?.spec?.title, sent: obj?.status?.sent ?? false }),
        (err) => {
            watchEnded = err ?? 'closed by the server';
        },
    );
    check('watch opened', watchEnded === undefined, watchEnded);

    step('CustomObjectsApi writes to "disk" in v1alpha1 and v1beta1');
    const created = await custom.createNamespacedCustomObject(at(ALPHA, { body: alpha('disk', 'disk full', { team: 'storage' }) }));
    expect('created name/apiVersion', [created.metadata.name, created.apiVersion], ['disk', `${GROUP}/${ALPHA}`]);
    expect('defaulted priority (v1alpha1)', created.spec.priority, 'normal');
    // The server's mutating admission titles an untitled alert with its content's first line.
    expect('defaulted title, as an annotation in v1alpha1', created.metadata.annotations?.[`${GROUP}/title`], 'disk full');
    const diskBeta = await custom.getNamespacedCustomObject(at(BETA, { name: 'disk' }));
    expect('apiVersion read in v1beta1', diskBeta.apiVersion, `${GROUP}/${BETA}`);
    expect('message becomes content', diskBeta.spec.content, 'disk full');
    expect('resourceVersion across versions', diskBeta.metadata.resourceVersion, created.metadata.resourceVersion);
    expect('uid across versions', diskBeta.metadata.uid, created.metadata.uid);
    const diskBack = await custom.getNamespacedCustomObject(at(ALPHA, { name: 'disk' }));
    expect('read back in v1alpha1', [diskBack.apiVersion, diskBack.spec.message], [`${GROUP}/${ALPHA}`, 'disk full']);

    for (const v of [ALPHA, BETA]) {
        const listed = await custom.listNamespacedCustomObject(at(v, { labelSelector: 'team=storage' }));
        expect(`label-selected list in ${v}`, listed.items.map((i) => i.metadata.name), ['disk']);
        expect(`list kind/apiVersion in ${v}`, [listed.kind, listed.apiVersion], ['AlertList', `${GROUP}/${v}`]);
        const everything = await custom.listNamespacedCustomObject(at(v));
        expect(`unselected list in ${v}`, everything.items.map((i) => i.metadata.name).sort(), ['disk', 'noise']);
    }

    const patched = await custom.patchNamespacedCustomObject(at(BETA, { name: 'disk', body: { spec: { title: 'Disk' } } }), merge);
    expect('merge patch in v1beta1', [patched.spec.title, patched.spec.content], ['Disk', 'disk full']);
    expect('generation after a spec change', patched.metadata.generation, 2);
    const alphaPatched = await custom.patchNamespacedCustomObject(at(ALPHA, { name: 'disk', body: { spec: { priority: 'high' } } }), merge);
    expect('merge patch in v1alpha1', [alphaPatched.spec.priority, alphaPatched.spec.message], ['high', 'disk full']);
    expect('title kept through a v1alpha1 patch', alphaPatched.metadata.annotations?.[`${GROUP}/title`], 'Disk');

    const status = await custom.patchNamespacedCustomObjectStatus(at(ALPHA, { name: 'disk', body: { status: { sent: true } } }), merge);
    expect('status patch', status.status?.sent, true);
    expect('status leaves generation', status.metadata.generation, 3);

    const current = await custom.getNamespacedCustomObject(at(ALPHA, { name: 'disk' }));
    current.spec.message = 'disk replaced';
    const replaced = await custom.replaceNamespacedCustomObject(at(ALPHA, { name: 'disk', body: current }));
    expect('replace in v1alpha1', replaced.spec.message, 'disk replaced');
    expect('title kept through a v1alpha1 replace', replaced.metadata.annotations?.[`${GROUP}/title`], 'Disk');
    expect('replace keeps status', replaced.status?.sent, true);
    expect(
        'v1alpha1 replace read in v1beta1',
        (({ content, title, priority }) => ({ content, title, priority }))((await custom.getNamespacedCustomObject(at(BETA, { name: 'disk' }))).spec),
        { content: 'disk replaced', title: 'Disk', priority: 'high' },
    );

    step('error Statuses');
    const stale = await apiError('stale replace', () => custom.replaceNamespacedCustomObject(at(ALPHA, { name: 'disk', body: current })));
    expectStatus(
        'stale replace',
        stale,
        409,
        'Conflict',
        'disk',
        `Operation cannot be fulfilled on ${PLURAL}.${GROUP} "disk": the object has been modified; please apply your changes to the latest version and try again`,
    );
    const exists = await apiError('duplicate create', () => custom.createNamespacedCustomObject(at(ALPHA, { body: alpha('disk', 'again') })));
    expectStatus('duplicate create', exists, 409, 'AlreadyExists', 'disk', `${PLURAL}.${GROUP} "disk" already exists`);
    const missing = await apiError('GET of a missing object', () => custom.getNamespacedCustomObject(at(BETA, { name: 'nope' })));
    expectStatus('GET of a missing object', missing, 404, 'NotFound', 'nope', `${PLURAL}.${GROUP} "nope" not found`);
    const missingPatch = await apiError('patch of a missing object', () =>
        custom.patchNamespacedCustomObject(at(ALPHA, { name: 'nope', body: { spec: { message: 'x' } } }), merge),
    );
    expectStatus('patch of a missing object', missingPatch, 404, 'NotFound', 'nope');
    const invalid = await apiError('invalid name', () => custom.createNamespacedCustomObject(at(ALPHA, { body: alpha('Not_A_Name', 'x') })));
    expect('invalid name: HTTP status/reason', [invalid.code, invalid.body.reason], [422, 'Invalid']);
    expect(
        'invalid name: details',
        [invalid.body.details?.name, invalid.body.details?.group, invalid.body.details?.kind],
        ['Not_A_Name', GROUP, 'Alert'],
    );
    expect(
        'invalid name: cause',
        (invalid.body.details?.causes ?? []).map((c) => [c.reason, c.field]),
        [['FieldValueInvalid', 'metadata.name']],
    );

    step('delete in v1alpha1; the v1beta1 watch saw every write');
    const deleted = await custom.deleteNamespacedCustomObject(at(ALPHA, { name: 'disk' }));
    expect('delete answers a Status', [deleted.kind, deleted.apiVersion, deleted.status], ['Status', 'v1', 'Success']);
    expect(
        'delete Status details',
        [deleted.details?.name, deleted.details?.group, deleted.details?.kind, deleted.details?.uid],
        ['disk', GROUP, PLURAL, created.metadata.uid],
    );
    const gone = await apiError('GET after delete', () => custom.getNamespacedCustomObject(at(ALPHA, { name: 'disk' })));
    expectStatus('GET after delete', gone, 404, 'NotFound', 'disk');
    await waitFor(
        'DELETED event for disk on the v1beta1 watch',
        () => events.some((e) => e.type === 'DELETED' && e.name === 'disk') || watchEnded !== undefined,
        () => ({ events, watchEnded }),
    );
    check('watch still open', watchEnded === undefined, { watchEnded, events });
    expect('watch in v1beta1 of writes in both versions', events, [
        { type: 'ADDED', name: 'disk', apiVersion: `${GROUP}/${BETA}`, content: 'disk full', title: 'disk full', sent: false },
        { type: 'MODIFIED', name: 'disk', apiVersion: `${GROUP}/${BETA}`, content: 'disk full', title: 'Disk', sent: false },
        { type: 'MODIFIED', name: 'disk', apiVersion: `${GROUP}/${BETA}`, content: 'disk full', title: 'Disk', sent: false },
        { type: 'MODIFIED', name: 'disk', apiVersion: `${GROUP}/${BETA}`, content: 'disk full', title: 'Disk', sent: true },
        { type: 'MODIFIED', name: 'disk', apiVersion: `${GROUP}/${BETA}`, content: 'disk replaced', title: 'Disk', sent: true },
        { type: 'DELETED', name: 'disk', apiVersion: `${GROUP}/${BETA}`, content: 'disk replaced', title: 'Disk', sent: true },
    ]);
    watchCtl.abort();

    step('KubernetesObjectApi: server-side apply in v1beta1 and v1alpha1, JSON patch');
    const apply = (body, manager, force) =>
        objects.patch(body, undefined, undefined, manager, force, k8s.PatchStrategy.ServerSideApply);
    const managers = (obj) =>
        (obj.metadata.managedFields ?? []).map((f) => `${f.manager}/${f.operation}/${f.apiVersion}`).sort();
    const applied = await apply(beta('cpu', 'cpu hot', 'CPU', { app: 'js' }), 'js');
    expect('apply creates', [applied.apiVersion, applied.spec.content, applied.spec.title], [`${GROUP}/${BETA}`, 'cpu hot', 'CPU']);
    expect('apply records its manager', managers(applied), [`js/Apply/${GROUP}/${BETA}`]);
    const conflict = await apiError('conflicting apply', () => apply(beta('cpu', 'cpu cool', 'CPU'), 'other'));
    expect('conflicting apply: HTTP status/reason', [conflict.code, conflict.body.reason], [409, 'Conflict']);
    expect('conflicting apply: message', conflict.body.message, 'Apply failed with 1 conflict: conflict with "js": .spec.content');
    expect('conflicting apply: causes', conflict.body.details?.causes, [
        { reason: 'FieldManagerConflict', message: 'conflict with "js"', field: '.spec.content' },
    ]);
    const forced = await apply(beta('cpu', 'cpu cool', 'CPU'), 'other', true);
    expect('forced apply', forced.spec.content, 'cpu cool');
    expect('both managers after a forced apply', managers(forced), [`js/Apply/${GROUP}/${BETA}`, `other/Apply/${GROUP}/${BETA}`]);
    const alphaApplied = await apply(alpha('cpu', 'cpu cooler'), 'other');
    expect('apply in v1alpha1', [alphaApplied.apiVersion, alphaApplied.spec.message], [`${GROUP}/${ALPHA}`, 'cpu cooler']);
    expect('managers after an apply in v1alpha1', managers(alphaApplied), [`js/Apply/${GROUP}/${BETA}`, `other/Apply/${GROUP}/${ALPHA}`]);
    const cpuBeta = await objects.read({ apiVersion: `${GROUP}/${BETA}`, kind: 'Alert', metadata: { name: 'cpu', namespace: NS } });
    expect('v1alpha1 apply read in v1beta1', [cpuBeta.spec.content, cpuBeta.spec.title], ['cpu cooler', 'CPU']);
    // CustomObjectsApi's patch defaults to application/json-patch+json.
    const jsonPatched = await custom.patchNamespacedCustomObject(
        at(ALPHA, { name: 'cpu', body: [{ op: 'replace', path: '/spec/priority', value: 'low' }] }),
    );
    expect('JSON patch in v1alpha1', jsonPatched.spec.priority, 'low');
    const objList = await objects.list(`${GROUP}/${ALPHA}`, 'Alert', NS, undefined, undefined, undefined, undefined, 'app=js');
    expect('KubernetesObjectApi list in v1alpha1', objList.items.map((i) => [i.metadata.name, i.spec.message, i.spec.priority]), [['cpu', 'cpu cooler', 'low']]);

    step('paging with limit and continue in both versions');
    for (let i = 0; i < 5; i++) {
        const v = i % 2 ? BETA : ALPHA;
        const body = v === ALPHA ? alpha(`page-${i}`, 'x', { app: 'page' }) : beta(`page-${i}`, 'x', 'y', { app: 'page' });
        await custom.createNamespacedCustomObject(at(v, { body }));
    }
    for (const v of [ALPHA, BETA]) {
        for (const labelSelector of ['app=page', undefined]) {
            const names = [];
            let token;
            let pages = 0;
            do {
                const page = await custom.listNamespacedCustomObject(at(v, { limit: 2, _continue: token, labelSelector }));
                check(`page ${pages} in ${v} has at most 2 items`, page.items.length <= 2, page.items.length);
                names.push(...page.items.map((i) => i.metadata.name));
                pages += 1;
                token = page.metadata.continue;
                check(`paging in ${v} ends`, pages <= 10, names);
            } while (token);
            const want = ['page-0', 'page-1', 'page-2', 'page-3', 'page-4'];
            if (!labelSelector) {
                want.unshift('cpu', 'noise');
            }
            expect(`paged list in ${v} (${labelSelector ?? 'all'})`, names, want);
            expect(`pages in ${v} (${labelSelector ?? 'all'})`, pages, Math.ceil(want.length / 2));
        }
    }

    step('deletecollection by label in v1beta1');
    const dc = await custom.deleteCollectionNamespacedCustomObject(at(BETA, { labelSelector: 'app=page' }));
    // As kube-apiserver: the deleted objects, as a list in the request's version.
    expect('deletecollection answers the deleted list', [dc.kind, dc.apiVersion], ['AlertList', `${GROUP}/${BETA}`]);
    expect(
        'deletecollection deleted',
        dc.items.map((i) => [i.metadata.name, i.apiVersion, i.spec.content]).sort(),
        [0, 1, 2, 3, 4].map((i) => [`page-${i}`, `${GROUP}/${BETA}`, 'x']),
    );
    expect('after deletecollection', (await custom.listNamespacedCustomObject(at(ALPHA, { labelSelector: 'app=page' }))).items, []);

    step('informer (makeInformer) in v1alpha1 of writes in v1beta1');
    await custom.createNamespacedCustomObject(at(BETA, { body: beta('inf-0', 'first', 'F', { app: 'inf' }) }));
    const seen = [];
    const informerErrors = [];
    let stopping = false;
    const informer = k8s.makeInformer(
        kc,
        `/apis/${GROUP}/${ALPHA}/namespaces/${NS}/${PLURAL}`,
        () => custom.listNamespacedCustomObject(at(ALPHA, { labelSelector: 'app=inf' })),
        'app=inf',
    );
    const record = (verb) => (obj) => seen.push([verb, obj.metadata.name, obj.apiVersion, obj.spec?.message]);
    informer.on(k8s.ADD, record('add'));
    informer.on(k8s.UPDATE, record('update'));
    informer.on(k8s.DELETE, record('delete'));
    informer.on(k8s.ERROR, (err) => {
        if (!stopping) {
            informerErrors.push(String(err?.stack ?? err));
        }
    });
    await informer.start();
    const informerState = () => ({ seen, informerErrors });
    await waitFor('informer add of the listed inf-0', () => seen.length >= 1 || informerErrors.length > 0, informerState);
    await custom.createNamespacedCustomObject(at(BETA, { body: beta('inf-1', 'second', 'S', { app: 'inf' }) }));
    await custom.createNamespacedCustomObject(at(BETA, { body: beta('inf-other', 'unlabelled', 'U') }));
    await custom.patchNamespacedCustomObject(at(BETA, { name: 'inf-1', body: { spec: { content: 'second, patched' } } }), merge);
    await custom.deleteNamespacedCustomObject(at(BETA, { name: 'inf-0' }));
    await waitFor('informer delete of inf-0', () => seen.some(([verb]) => verb === 'delete') || informerErrors.length > 0, informerState);
    expect('informer errors', informerErrors, []);
    expect('informer events', seen, [
        ['add', 'inf-0', `${GROUP}/${ALPHA}`, 'first'],
        ['add', 'inf-1', `${GROUP}/${ALPHA}`, 'second'],
        ['update', 'inf-1', `${GROUP}/${ALPHA}`, 'second, patched'],
        ['delete', 'inf-0', `${GROUP}/${ALPHA}`, 'first'],
    ]);
    expect('informer cache', informer.list(NS).map((o) => [o.metadata.name, o.spec.message]), [['inf-1', 'second, patched']]);
    expect('informer get', informer.get('inf-1', NS)?.metadata?.labels, { app: 'inf' });
    stopping = true;
    await informer.stop();

    step('delete the rest in both versions');
    for (const [v, name] of [[ALPHA, 'cpu'], [BETA, 'noise'], [ALPHA, 'inf-1'], [BETA, 'inf-other']]) {
        const d = await custom.deleteNamespacedCustomObject(at(v, { name }));
        expect(`delete ${name} in ${v}`, [d.kind, d.status], ['Status', 'Success']);
    }
    for (const v of [ALPHA, BETA]) {
        expect(`nothing left in ${v}`, (await custom.listNamespacedCustomObject(at(v))).items, []);
    }

    console.log('js client: all checks passed');
}

const addr = process.argv[2];
if (!addr) {
    console.error('usage: node official_client.mjs HOST:PORT');
    process.exit(64);
}
try {
    await main(addr);
    process.exit(0);
} catch (err) {
    console.error(`failed at step "${currentStep}":\n${err?.stack ?? err}`);
    process.exit(1);
}
