// Two public routes that always answer 200 so a visitor's page never causes a failing request: who
// is logged in (if anyone) and what the login page may say about this exchange (demo mode names its
// logins; src/gateway/onboarding.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { replies, SessionReply, WelcomeReply } from './responses.js';

export const onboardingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.services;
  const tags = ['auth'];
  app.get(
    '/api/v1/session',
    {
      config: { auth: 'optional' },
      schema: {
        tags,
        response: replies({ 200: SessionReply }),
        summary: 'The logged-in user, or null for a visitor (never 401)',
      },
    },
    async (request) => {
      if (request.session === null) return { user: null };
      const user = await context.users.findUserById(request.session.userId);
      if (user === undefined) return { user: null };
      return { user: { userId: user.id, username: user.username, isAdmin: user.isAdmin } };
    },
  );
  app.get(
    '/api/v1/welcome',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        response: replies({ 200: WelcomeReply }),
        summary: 'What the login page shows: demo logins in demo mode, else demo: null',
      },
    },
    async () => context.onboarding.welcome(),
  );
};
