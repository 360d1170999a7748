// What a newcomer meets before logging in: hooks run when an account is registered (demo mode
// gives a starting balance there), and two public routes that always answer 200 so a visitor's
// page never causes a failing request: who is logged in (if anyone) and what the login page may
// say about this exchange (demo mode names its logins).
import type { FastifyInstance } from 'fastify';
import { authenticate, type GatewayContext } from './context.js';
import { GatewayError } from './errors.js';

export interface RegisteredUser {
  userId: number;
  username: string;
}

export interface DemoLogin {
  username: string;
  password: string;
}

/** What demo mode tells visitors: shared logins, and what a newly registered account starts with. */
export interface DemoWelcome {
  logins: DemoLogin[];
  startingBalances: Array<{ asset: string; amount: string }>;
}

export type RegistrationHook = (user: RegisteredUser) => Promise<void>;

/** Hooks at most (the demo adds one; more is a wiring mistake, not load). */
export const registrationHooksMax = 8;

export class Onboarding {
  private readonly hooks: RegistrationHook[] = [];
  private demo: DemoWelcome | null = null;

  /** Runs `hook` after every registration, before the reply; returns the removal. */
  onRegistered(hook: RegistrationHook): () => void {
    if (this.hooks.length >= registrationHooksMax) throw new Error('REGISTRATION_HOOKS_FULL');
    this.hooks.push(hook);
    return () => {
      const at = this.hooks.indexOf(hook);
      if (at >= 0) this.hooks.splice(at, 1);
    };
  }

  async registered(user: RegisteredUser): Promise<void> {
    for (const hook of [...this.hooks]) await hook(user);
  }

  /** Demo mode's announcement for the login page; null ends it. */
  announceDemo(welcome: DemoWelcome | null): void {
    this.demo = welcome;
  }

  welcome(): { demo: DemoWelcome | null } {
    return { demo: this.demo };
  }
}

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
