import { Module, type DynamicModule } from '@nestjs/common';
import { ConsoleController, CONSOLE_SESSIONS } from '../console/console.controller.js';
import { ConsoleFilter } from '../console/console.filter.js';
import type { ConsoleSessions } from '../console/sessions.js';
import { ParkedController } from '../http/parked.controller.js';
import { CONNECTORS, LOGGER, WEBHOOKS } from '../http/tokens.js';

/**
 * The operators' web console at `/console`. Its parked-dossier actions are the JSON API's own
 * (ParkedController, used as a service), so both resolve a target the same way.
 */
@Module({})
export class ConsoleModule {
  static forSessions(sessions: ConsoleSessions): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsoleController],
      providers: [
        { provide: CONSOLE_SESSIONS, useValue: sessions },
        ConsoleFilter,
        {
          provide: ParkedController,
          useFactory: (...args: ConstructorParameters<typeof ParkedController>) =>
            new ParkedController(...args),
          inject: [CONNECTORS, LOGGER, WEBHOOKS],
        },
      ],
    };
  }
}
