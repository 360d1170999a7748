// What a newcomer meets before logging in: hooks run when an account is registered (demo mode
// gives a starting balance there) and demo mode's announcement for the login page. The routes that
// show them are in onboarding-routes.ts (this module is a service: it imports no route context).

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
