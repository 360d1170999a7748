// Two public routes that always answer 200 so a visitor's page never causes a failing request: who
// is logged in (if anyone) and what the login page may say about this exchange (demo mode names its
// logins; src/gateway/onboarding.ts).
import type { FastifyInstance } from 'fastify';
import { authenticate, type GatewayContext } from './context.js';
import { GatewayError } from './errors.js';

export function registerOnboardingRoutes(app: FastifyInstance, context: GatewayContext): void {
  const tags = ['auth'];
  app.get(
    '/api/v1/session',
    { schema: { tags, summary: 'The logged-in user, or null for a visitor (never 401)' } },
    async (request) => {
      try {
        const { session } = await authenticate(context, request);
        const user = await context.users.findUserById(session.userId);
        if (user === undefined) return { user: null };
        return { user: { userId: user.id, username: user.username, isAdmin: user.isAdmin } };
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'UNAUTHENTICATED') return { user: null };
        throw error;
      }
    },
  );
  app.get(
    '/api/v1/welcome',
    { schema: { tags, summary: 'What the login page shows: demo logins in demo mode, else demo: null' } },
    async () => context.onboarding.welcome(),
  );
}
