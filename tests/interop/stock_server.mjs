// A stock x402 v2 resource server: @x402/core's x402HTTPResourceServer with @x402/evm's batch-settlement
// server scheme, behind a plain node:http server (what @x402/express does, without express), its
// facilitator client pointed at a facilitator over HTTP. It sells POST /v1/* at $0.01 in the devnet's
// TestUSDC, refusing deposits below $0.07 (and POST /permit2/* the same, its deposits by Permit2, as for a
// token without ERC-3009); the receiverAuthorizer is whatever the facilitator advertises in /supported (the scheme
// has no authorizer key of its own). Channel state lives in the reference's in-memory storage.
//
// Operator endpoints (unpriced, for the test driver): POST /admin/claim-and-settle and POST /admin/settle
// run the reference channel manager's claimAndSettle() and settle() through the facilitator;
// POST /admin/refund?channel=ID its refund([ID]); GET /admin/channels lists the channels in its storage.
// Prints {"port": N} once listening.
// Usage: node stock_server.mjs FACILITATOR_URL TOKEN_ADDRESS PAY_TO [BEARER_TOKEN_FILE]
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { HTTPFacilitatorClient, x402HTTPResourceServer, x402ResourceServer } from '@x402/core/server';
import { convertToTokenAmount } from '@x402/core/utils';
import { BatchSettlementEvmScheme } from '@x402/evm/batch-settlement/server';

const [facilitatorUrl, token, payTo, bearerFile] = process.argv.slice(2);
if (!facilitatorUrl || !token || !payTo) {
  console.error('usage: node stock_server.mjs FACILITATOR_URL TOKEN_ADDRESS PAY_TO [BEARER_TOKEN_FILE]');
  process.exit(2);
}
const network = 'eip155:31337';
const maxBodyBytes = 64 * 1024;

// The devnet's token is no default asset of the reference, so dollars become its 6-decimal units here.
// It enforces its offer's minimum deposit (extra.minDeposit), which a paychan agent must follow.
const scheme = new BatchSettlementEvmScheme(payTo, { enforceMinDeposit: true }).registerMoneyParser(async (amount, net) => {
  if (net !== network) return null;
  return { amount: convertToTokenAmount(String(amount), 6), asset: token, extra: { name: 'USDC', version: '2' } };
});
// A facilitator that authenticates its clients gets the bearer token through the reference's own
// hook, as a hosted facilitator's would.
const bearer = bearerFile ? readFileSync(bearerFile, 'utf8').trim() : null;
const authorization = { Authorization: `Bearer ${bearer}` };
const facilitator = new HTTPFacilitatorClient({
  url: facilitatorUrl,
  ...(bearer && {
    createAuthHeaders: async () => ({ verify: authorization, settle: authorization, supported: authorization }),
  }),
});
const resourceServer = new x402ResourceServer(facilitator).register(network, scheme);
const routes = {
  'POST /v1/*': {
    // Seven calls' worth at least (atomic: the devnet's token is no default asset).
    accepts: { scheme: 'batch-settlement', network, payTo, price: '$0.01', extra: { minDeposit: '70000' } },
    description: 'stock server test API',
    mimeType: 'application/json',
  },
  'POST /permit2/*': {
    accepts: {
      scheme: 'batch-settlement', network, payTo, price: '$0.01',
      extra: { minDeposit: '70000', assetTransferMethod: 'permit2' },
    },
    description: 'stock server test API, deposits by Permit2',
    mimeType: 'application/json',
  },
};
const httpServer = new x402HTTPResourceServer(resourceServer, routes);
const manager = scheme.createChannelManager(facilitator, network, token);
await httpServer.initialize();

function adapterFor(req, url, body) {
  return {
    getHeader: (name) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    getMethod: () => req.method,
    getPath: () => url.pathname,
    getUrl: () => url.href,
    getAcceptHeader: () => req.headers.accept ?? '',
    getUserAgent: () => req.headers['user-agent'] ?? '',
    getQueryParams: () => Object.fromEntries(url.searchParams),
    getQueryParam: (name) => url.searchParams.get(name) ?? undefined,
    getBody: () => body,
  };
}

function send(res, status, headers, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? {});
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > maxBodyBytes) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// The priced API itself: what the provider sells.
const api = () => ({ status: 200, headers: {}, body: '{"answer":42}' });

async function operator(req, url, res) {
  if (req.method === 'POST' && url.pathname === '/admin/claim-and-settle') {
    const result = await manager.claimAndSettle();
    return send(res, 200, {}, result);
  }
  // A refund claims on chain as it refunds; moving that claim to payTo takes a settle of its own.
  if (req.method === 'POST' && url.pathname === '/admin/settle') {
    return send(res, 200, {}, await manager.settle());
  }
  // The provider's side of a cooperative refund: claims what was charged and returns the rest.
  if (req.method === 'POST' && url.pathname === '/admin/refund') {
    return send(res, 200, {}, await manager.refund([url.searchParams.get('channel') ?? '']));
  }
  if (req.method === 'GET' && url.pathname === '/admin/channels') {
    return send(res, 200, {}, await scheme.getStorage().list());
  }
  return send(res, 404, {}, { error: 'not found' });
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host ?? '127.0.0.1'}`);
  const body = await readBody(req);
  const adapter = adapterFor(req, url, body);
  const context = {
    adapter,
    path: url.pathname,
    method: req.method,
    paymentHeader: adapter.getHeader('payment-signature') ?? adapter.getHeader('x-payment'),
  };
  if (!httpServer.requiresPayment(context)) return operator(req, url, res);

  const result = await httpServer.processHTTPRequest(context);
  if (result.type === 'no-payment-required') {
    const r = api();
    return send(res, r.status, r.headers, r.body);
  }
  if (result.type === 'payment-error') {
    const { status, headers, body: errorBody } = result.response;
    return send(res, status, headers, errorBody);
  }
  // payment-verified: run the handler, then settle before any of its answer leaves.
  const { paymentPayload, paymentRequirements, declaredExtensions, beforeHandlerSettlement } = result;
  const answer = api();
  const settled = await httpServer.processSettlement(
    paymentPayload,
    paymentRequirements,
    declaredExtensions,
    { request: context, responseBody: Buffer.from(answer.body), responseHeaders: answer.headers },
    undefined,
    beforeHandlerSettlement,
  );
  if (!settled.success) {
    const { status, headers, body: errorBody } = settled.response;
    return send(res, status, headers, errorBody);
  }
  return send(res, answer.status, { ...answer.headers, ...settled.headers }, answer.body);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) send(res, 500, {}, { error: String(error?.message ?? error) });
    else res.end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
