// A load client for the offerings test, run as a child process: one WebSocket per user (Bearer
// token on the upgrade), every claim sent at once, every reply counted. Prints one JSON summary.
import WebSocket from 'ws';

interface ClientPlan {
  url: string;
  offeringId: number;
  claimsPerUser: number;
  users: Array<{ id: number; token: string }>;
}

interface UserTally {
  userId: number;
  acceptedUnits: number;
  codes: Record<string, number>;
}

function claimAll(plan: ClientPlan, user: { id: number; token: string }): Promise<UserTally> {
  const tally: UserTally = { userId: user.id, acceptedUnits: 0, codes: {} };
  const socket = new WebSocket(`${plan.url.replace('http', 'ws')}/ws`, {
    headers: { authorization: `Bearer ${user.token}` },
  });
  let waiting = plan.claimsPerUser;
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', (code) => {
      if (waiting > 0)
        reject(new Error(`socket of user ${user.id} closed (${code}) with ${waiting} replies due`));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (typeof message.id !== 'number') return;
      const code = message.ok === true ? 'CLAIMED' : String(message.error?.code);
      tally.codes[code] = (tally.codes[code] ?? 0) + 1;
      if (message.ok === true) tally.acceptedUnits += message.result.units;
      waiting -= 1;
      if (waiting === 0) {
        socket.close();
        resolve(tally);
      }
    });
    socket.once('open', () => {
      for (let id = 1; id <= plan.claimsPerUser; id++) {
        socket.send(JSON.stringify({ op: 'claim', id, offeringId: plan.offeringId, units: 1 }));
      }
    });
  });
}

const plan = JSON.parse(process.env.HOGA_CLAIM_PLAN ?? '{}') as ClientPlan;
const tallies = await Promise.all(plan.users.map((user) => claimAll(plan, user)));
process.stdout.write(`${JSON.stringify(tallies)}\n`);
