// The console's features, in navigation order: each screen file exports its module (routes,
// navigation entry, boot step; `ConsoleModule` in app.ts). Adding a feature's screen to the
// console is its import and its name in this list.

import type { ConsoleModule } from "./app";
import { analyticsModule } from "./screens/analytics";
import { accountModule } from "./screens/account";
import { authModule } from "./screens/auth";
import { cannedRepliesModule } from "./screens/canned-replies";
import { chatModule } from "./screens/chat";
import { consentModule } from "./screens/consent";
import { faqModule } from "./screens/faq";
import { inboxModule } from "./screens/inbox";
import { outboxModule } from "./screens/outbox";
import { privacyModule } from "./screens/privacy";
import { reviewsModule } from "./screens/reviews";
import { subscribersModule } from "./screens/subscribers";
import { tokensModule } from "./screens/tokens";
import { usersModule } from "./screens/users";
import { webhooksModule } from "./screens/webhooks";

export const MODULES: ConsoleModule[] = [
  authModule,
  chatModule,
  cannedRepliesModule,
  inboxModule,
  analyticsModule,
  faqModule,
  reviewsModule,
  subscribersModule,
  outboxModule,
  consentModule,
  privacyModule,
  usersModule,
  tokensModule,
  webhooksModule,
  accountModule,
];
