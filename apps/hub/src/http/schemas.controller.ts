import { Controller, Get, Param } from '@nestjs/common';
import {
  DOWNCAST_LOSSES,
  DomainError,
  EVENT_SCHEMA_NAMES,
  EVENT_SCHEMA_VERSIONS,
  EventSchemas,
  eventCatalogue,
  eventSchemaId,
  isEventType,
  isHubEmitted,
  newestType,
  type CatalogueEntry,
  type EventType,
} from '#lgsp/contracts';

/**
 * `/v1/schemas`: the event catalogue with its versions, and each type's JSON Schema. Any authenticated
 * client may read it (as the other read routes); it holds no data, only the contracts.
 */
@Controller('v1/schemas')
export class SchemasController {
  private readonly schemas = EventSchemas.shared();

  @Get()
  list(): { events: CatalogueEntry[] } {
    return { events: eventCatalogue(this.schemas, isHubEmitted) };
  }

  @Get(':type')
  show(@Param('type') type: string): {
    type: EventType;
    name: string;
    version: number;
    newest: number;
    schemaId: string;
    schema: Readonly<Record<string, unknown>>;
    downcastDrops?: readonly string[];
  } {
    if (!isEventType(type)) throw new DomainError('not-found', 'no event type of that name in the catalogue');
    const drops = DOWNCAST_LOSSES[type];
    return {
      type,
      name: EVENT_SCHEMA_NAMES[type],
      version: EVENT_SCHEMA_VERSIONS[type],
      newest: EVENT_SCHEMA_VERSIONS[newestType(type) as EventType],
      schemaId: eventSchemaId(type),
      schema: this.schemas.schema(type),
      ...(drops === undefined ? {} : { downcastDrops: drops }),
    };
  }
}
