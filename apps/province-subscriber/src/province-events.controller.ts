import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { ProvinceViewService } from './province-view.service.js';

/**
 * The controller that consumes one province's topic: `@EventPattern` takes the topic name, which
 * comes from the configuration, so the class is made for it.
 */
export function provinceEventsController(topic: string): Type<unknown> {
  @Controller()
  class ProvinceEventsController {
    constructor(@Inject(ProvinceViewService) private readonly views: ProvinceViewService) {}

    // The untyped overload: the typed one wants `(data, ...args: unknown[])`, and a KafkaContext is not unknown.
    @EventPattern<string>(topic)
    async onEvent(@Payload() _value: unknown, @Ctx() context: KafkaContext): Promise<void> {
      // The value is read from the message rather than @Payload(): for a null value, @Payload() hands
      // over the whole message instead.
      const message = context.getMessage();
      await this.views.handle(
        { headers: message.headers, value: message.value },
        { topic: context.getTopic(), partition: context.getPartition(), offset: message.offset },
      );
    }
  }
  return ProvinceEventsController;
}
